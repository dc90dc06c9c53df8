"""The admin index links to the dashboard; the pages themselves are in admin_views.py."""

from django.contrib import admin

# Named apart from admin/index.html: this app comes after django.contrib.admin in
# INSTALLED_APPS, so a template of the same name here would never be found.
admin.site.index_template = "admin/smsbridge_index.html"
