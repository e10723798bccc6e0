"""Requests and answers of sign-in, refresh and devices."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from domain.schemas import UserSchema, UTCDateTime


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    device_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    device_name = fields.String(allow_none=True, validate=validate.Length(max=200))


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=10, max=300))


class TokenPairSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})
    refresh_token = fields.String(required=True)
    refresh_expires_in = fields.Integer(required=True)


class LoginResultSchema(TokenPairSchema):
    user = fields.Nested(UserSchema, required=True)


class DeviceSchema(Schema):
    id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    device_id = fields.String(required=True)
    device_name = fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)
    last_seen_at = UTCDateTime(required=True)
    ended_at = UTCDateTime(allow_none=True)
    end_reason = fields.String(allow_none=True)
    wipe = fields.Boolean()


class DeviceListSchema(Schema):
    items = fields.List(fields.Nested(DeviceSchema), required=True)


class RevokeSchema(Schema):
    wipe = fields.Boolean(load_default=True)
