import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/dashboard/",
    "/admin/events/",
    "/admin/abuse/blacklistentry/",
    "/admin/abuse/blacklistentry/add/",
    "/admin/abuse/blacklistentry/import/",
    "/admin/audit/monitorevent/",
    "/admin/onboarding/outsms/",
    "/admin/core/systemsetting/",
    "/admin/clients/client/",
    "/admin/inbound/gateway/",
]


@pytest.mark.parametrize("url", PAGES)
def test_a_user_who_is_not_staff_is_sent_to_the_login_page(client, url):
    user = get_user_model().objects.create_user("alice", password="secret-password")
    client.force_login(user)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize("url", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_for_staff(admin_client, url):
    assert admin_client.get(url).status_code == 200
