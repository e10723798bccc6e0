"""API error messages follow Accept-Language (en, vi, ar, fa, ru); codes never change."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("header", "language", "message"),
    [
        ("vi-VN,vi;q=0.9,en;q=0.5", "vi", "Cần đăng nhập"),
        ("ar-SA", "ar", "يلزم تسجيل الدخول"),
        ("fr;q=1, fa;q=0.8", "fa", "ورود لازم است"),
        ("ru", "ru", "Нужен вход"),
        ("en-US,ar;q=0.9", "en", "Send an access token"),
        ("de-DE", "en", "Send an access token"),
        ("", "en", "Send an access token"),
    ],
)
def test_error_message_in_the_callers_language(client, header, language, message):
    response = client.get("/api/v1/customers", headers={"Accept-Language": header})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"
    assert response.json["error"]["message"].startswith(message)
    assert response.headers["Content-Language"] == language
    assert "Accept-Language" in response.headers["Vary"]


def test_field_messages_are_translated_and_field_names_kept(client, world, login):
    headers = {**login(world.email("north.manager")), "Accept-Language": "vi"}
    response = client.post("/api/v1/customers", json={"status": "lead"}, headers=headers)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert error["message"] == "Một số trường không hợp lệ."
    assert error["fields"]["name"] == ["Thiếu dữ liệu cho trường bắt buộc."]


def test_wrong_password_in_arabic(client, world):
    response = client.post(
        "/api/v1/auth/login",
        json={"email": world.email("rep.a"), "password": "nope-nope-nope", "device_id": "d"},
        headers={"Accept-Language": "ar"},
    )
    assert response.status_code == 401
    assert response.json["error"] == {
        "code": "invalid_credentials",
        "message": "البريد الإلكتروني أو كلمة المرور غير صحيحة.",
    }
