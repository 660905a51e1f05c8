"""Each audit chain's head, kept apart and moved by the database on every insert.

A hash chain shows a changed or removed event, but removing its newest events
leaves a shorter chain that verifies. The head (last seq and hash) is written
by a trigger on ``audit_auditevent`` and may only move forward, so
``verify_audit`` can tell where each chain must end. Existing chains get their
head from their last event.
"""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION audit_chain_head_advance() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_auditchainhead (chain, seq, hash)
    VALUES (COALESCE(NEW.sandbox_id, 0), NEW.seq, NEW.hash)
    ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_moves_chain_head
    AFTER INSERT ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_advance();

CREATE OR REPLACE FUNCTION audit_chain_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_auditchainhead: DELETE is not allowed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.chain <> OLD.chain OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'audit_auditchainhead: a chain head only moves forward (seq % to %)',
            OLD.seq, NEW.seq USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_chain_head_forward_only
    BEFORE UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward_only();

INSERT INTO audit_auditchainhead (chain, seq, hash)
SELECT DISTINCT ON (COALESCE(sandbox_id, 0)) COALESCE(sandbox_id, 0), seq, hash
FROM audit_auditevent
ORDER BY COALESCE(sandbox_id, 0), seq DESC;
"""

DROP = """
DROP TRIGGER IF EXISTS audit_event_moves_chain_head ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_chain_head_advance();
DROP TRIGGER IF EXISTS audit_chain_head_forward_only ON audit_auditchainhead;
DROP FUNCTION IF EXISTS audit_chain_head_forward_only();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_append_only_trigger'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('chain', models.BigIntegerField(primary_key=True, serialize=False)),
                ('seq', models.PositiveBigIntegerField()),
                ('hash', models.CharField(max_length=64)),
            ],
            options={
                'verbose_name': 'audit chain head',
                'verbose_name_plural': 'audit chain heads',
            },
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
