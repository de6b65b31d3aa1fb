from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsStaffOrReadOnly(BasePermission):
    """Any authenticated user may read (what their scope lets them see); only staff write."""

    message = "Only Topbox staff can change data."

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_staff)


class IsStaff(BasePermission):
    """Only Topbox staff, whatever the method."""

    message = "Only Topbox staff can do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_staff)
