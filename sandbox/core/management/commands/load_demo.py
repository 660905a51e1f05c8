"""``manage.py load_demo``: the fixed demo accounts, sandboxes and their content.

With ``--if-empty`` it does nothing when any user exists (``make run`` uses
that); without, it creates whatever is missing and leaves the rest alone.
Each sandbox's content (scenario packs, scripted demo models) is loaded by the
hooks listed in ``DEMO_CONTENT_HOOKS`` so that every part of the platform
brings its own demo data.
"""

import importlib.util
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from sandbox.core import services
from sandbox.core.models import Membership, Sandbox

DEMO_CONTENT_HOOKS = [
    "domains.demo.load_demo_models",
    "scenarios.demo.load_demo_scenarios",
]


class Command(BaseCommand):
    help = "Load the demo accounts (password in fixtures/demo.yaml), sandboxes and content."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="only when the database has no users yet")
        parser.add_argument("--file", default=str(Path(settings.BASE_DIR) / "fixtures"
                                                  / "demo.yaml"))

    def handle(self, *args, if_empty=False, file=None, **options):
        User = get_user_model()
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has users; demo data not loaded.")
            return
        spec = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
        with transaction.atomic():
            users = self._accounts(spec)
            for item in spec["sandboxes"]:
                sandbox = self._sandbox(item, users)
                for hook in DEMO_CONTENT_HOOKS:
                    if importlib.util.find_spec(hook.rsplit(".", 1)[0]) is None:
                        continue  # that part of the platform brings no demo content yet
                    loader = import_string(hook)
                    for line in loader(sandbox=sandbox, actor=users["operator"]) or []:
                        self.stdout.write(f"  {sandbox.name}: {line}")
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {len(users)} accounts (password “{spec['password']}”), "
            f"{len(spec['sandboxes'])} sandboxes."))

    def _accounts(self, spec) -> dict:
        User = get_user_model()
        add_sandbox = Permission.objects.get(codename="add_sandbox", content_type__app_label="core")
        users = {}
        for account in spec["accounts"]:
            user, created = User.objects.get_or_create(username=account["username"])
            if created:
                user.set_password(spec["password"])
                user.is_staff = bool(account.get("staff"))
                user.is_superuser = bool(account.get("superuser"))
                user.save()
                if account.get("can_create_sandboxes"):
                    user.user_permissions.add(add_sandbox)
            users[user.username] = user
        return users

    def _sandbox(self, item: dict, users: dict) -> Sandbox:
        existing = Sandbox.objects.filter(name=item["name"]).first()
        if existing:
            return existing
        members = item["members"]
        fields = {k: v for k, v in item.items() if k != "members"}
        sandbox = services.sandbox_create(created_by=users["operator"], **fields)
        for username, role in members.items():
            if not Membership.objects.filter(sandbox=sandbox, user=users[username]).exists():
                services.membership_add(sandbox=sandbox, actor=users["operator"],
                                        username=username, role=role)
        return sandbox
