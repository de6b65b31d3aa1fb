def test_healthz_is_ok_when_mongo_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "mongo": "up"}


def test_healthz_is_503_with_a_reason_when_mongo_is_down(client, mongo_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["reason"] == "MongoDB did not answer a ping"
    assert "127.0.0.1" not in str(body)


def test_healthz_only_reads(client):
    assert client.post("/healthz").status_code == 405
