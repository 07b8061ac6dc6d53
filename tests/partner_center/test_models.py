"""Tolerant models: any casing, unknown fields and statuses, odd dates, numeric error codes."""

from __future__ import annotations

from datetime import UTC, datetime

from partner_center.errors import (
    AuthError,
    CancellationWindowPassedError,
    ConflictError,
    NoRelationshipError,
    NotFoundError,
    PartnerCenterError,
    ThrottledError,
    UnavailableError,
    error_from_response,
)
from partner_center.models import (
    Collection,
    Customer,
    Entitlement,
    Order,
    OrderStatus,
    Relationship,
    Subscription,
    SubscriptionStatus,
)


def test_the_pascal_case_removal_response_reads_as_relationship_none() -> None:
    body = {
        "Id": None,
        "CommerceId": None,
        "CompanyProfile": None,
        "BillingProfile": None,
        "RelationshipToPartner": "none",
        "AllowDelegatedAccess": None,
        "UserCredentials": None,
        "CustomDomains": None,
        "AssociatedPartnerId": None,
        "Attributes": {"ObjectType": "Customer"},
    }
    customer = Customer.model_validate(body)
    assert customer.relationship_to_partner is Relationship.NONE
    assert customer.attributes.object_type == "Customer"


def test_unknown_statuses_and_fields_never_raise_and_keep_the_raw_text() -> None:
    sub = Subscription.from_wire({"id": "s", "Status": "Disabled-Later", "brandNewField": {"x": 1}, "quantity": None})
    assert sub.status is SubscriptionStatus.UNKNOWN and sub.raw_status == "Disabled-Later"
    assert Customer.model_validate({"relationshipToPartner": "partner_of_the_future"}).relationship_to_partner is Relationship.UNKNOWN
    assert Subscription.from_wire({"id": "s", "status": "EXPIRED"}).status is SubscriptionStatus.EXPIRED


def test_nulls_read_as_absent_fields_and_never_raise() -> None:
    sub = Subscription.from_wire({"id": "s", "offerName": None, "friendlyName": None, "status": None, "productType": {"id": None}})
    assert sub.name == "s" and sub.status is SubscriptionStatus.UNKNOWN and sub.product_type.id == ""
    assert sub.wire["offerName"] is None  # the PATCH still sends back what was read
    order = Order.model_validate({"id": "o", "lineItems": [{"lineItemNumber": 0, "subscriptionId": None, "friendlyName": None}]})
    assert order.line_items[0].subscription_id == "" and order.name == "o"
    entitlement = Entitlement.model_validate(
        {"entitlementType": "software", "skuId": None, "entitledArtifacts": None, "referenceOrder": None}
    )
    assert entitlement.is_software and entitlement.entitled_artifacts == [] and entitlement.reference_order.id == ""
    assert Customer.model_validate({"id": "c", "companyProfile": {"companyName": "x", "domain": None}}).domain == ""


def test_dates_with_seven_digit_fractions_or_no_zone_are_read_as_utc() -> None:
    sub = Subscription.from_wire(
        {
            "id": "s",
            "cancellationAllowedUntilDate": "2026-11-24T10:00:00.1234567Z",
            "commitmentEndDate": "2027-01-01T00:00:00",
            "creationDate": "not a date",
        }
    )
    assert sub.cancellation_allowed_until_date == datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC)
    assert sub.commitment_end_date == datetime(2027, 1, 1, tzinfo=UTC)
    assert sub.creation_date is None


def test_a_subscription_keeps_its_wire_form_for_the_full_resource_patch() -> None:
    wire = {"id": "s", "status": "active", "attributes": {"etag": '"abc"'}, "unknownButImportant": 7}
    sub = Subscription.from_wire(wire)
    assert sub.wire == wire and sub.etag == '"abc"'


def test_collections_read_next_links_and_their_headers() -> None:
    page = Collection[dict].model_validate(
        {
            "totalCount": 1,
            "items": [{}],
            "links": {
                "next": {
                    "uri": "/customers?seekOperation=Next",
                    "method": "GET",
                    "headers": [{"key": "MS-ContinuationToken", "value": "t"}],
                }
            },
        }
    )
    assert page.links.next.headers[0].key == "MS-ContinuationToken"
    assert OrderStatus("Cancelled") is OrderStatus.CANCELLED


def test_errors_map_to_the_tree_with_code_as_number_or_string() -> None:
    ids = {"correlation_id": "corr", "request_id": "req"}
    no_rel = error_from_response(
        403, {"code": 20002, "description": "No relationship between caller and account.", "data": [], "source": "PartnerFD"}, **ids
    )
    assert isinstance(no_rel, NoRelationshipError) and no_rel.code == "20002"
    assert "corr" in str(no_rel) and "req" in str(no_rel) and "20002" in str(no_rel)
    assert isinstance(error_from_response(400, {"code": "2055", "description": "Etag is no longer valid"}, **ids), ConflictError)
    assert isinstance(error_from_response(400, {"code": 900117, "description": "window"}, **ids), CancellationWindowPassedError)
    assert isinstance(error_from_response(404, {"code": 60003, "description": "x"}, **ids), NotFoundError)
    assert isinstance(error_from_response(401, {"code": 800001, "description": "x"}, **ids), AuthError)
    assert isinstance(error_from_response(503, "<html>busy</html>", **ids), UnavailableError)
    throttled = error_from_response(
        429, {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 57 seconds."}, retry_after=57, **ids
    )
    assert isinstance(throttled, ThrottledError) and throttled.retry_after == 57
    assert "Try again in 57 seconds" in throttled.description
    other = error_from_response(400, None, **ids)
    assert type(other) is PartnerCenterError and "HTTP 400" in other.description
