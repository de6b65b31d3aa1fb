from django.apps import AppConfig


class SampleDataConfig(AppConfig):
    """The sample data: fixtures loading, synthetic data at scale and the ``seed`` command.

    The one place outside ``urls.py`` that knows every app: it writes their documents.
    """

    name = "sampledata"
    verbose_name = "Sample data"
