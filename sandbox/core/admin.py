from django.contrib import admin

from sandbox.core.models import Membership, Sandbox


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Sandbox)
class SandboxAdmin(admin.ModelAdmin):
    list_display = ["name", "vertical", "status", "created_at"]
    list_filter = ["vertical", "status"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "sandbox", "role"]
    list_filter = ["role", "sandbox"]
    search_fields = ["user__username", "sandbox__name"]
