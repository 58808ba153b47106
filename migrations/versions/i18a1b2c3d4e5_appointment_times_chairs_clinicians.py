"""scheduling: opening hours, durations, chairs, clinicians' hours; appointments get a start
and end time, a chair, a clinician and the session documented from them. On PostgreSQL an
exclusion constraint makes a double-booked chair impossible whatever the application does.

Revision ID: i18a1b2c3d4e5
Revises: i17c3e0c0ffee
Create Date: 2026-12-07 16:30:00.000000

"""

from datetime import datetime, time, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "i18a1b2c3d4e5"
down_revision = 'i17c3e0c0ffee'
branch_labels = None
depends_on = None

# As shipped with this revision (the application's defaults may change later).
IV_MINUTES = 40 + 60
SPRAVATO_MINUTES = 15 + 120
FIRST_START = time(8, 0)


def upgrade():
    op.create_table(
        "chair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_chair_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chair")),
        sa.UniqueConstraint("clinic_id", "name", name="uq_chair_clinic_name"),
    )
    op.create_index(op.f("ix_chair_clinic_id"), "chair", ["clinic_id"], unique=False)
    op.create_table(
        "clinician_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_clinician_hours_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["user_account.id"],
            name=op.f("fk_clinician_hours_clinician_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinician_hours")),
        sa.UniqueConstraint("clinician_id", "weekday", name="uq_clinician_hours_clinician_weekday"),
    )
    op.create_index(
        op.f("ix_clinician_hours_clinic_id"), "clinician_hours", ["clinic_id"], unique=False
    )

    with op.batch_alter_table("clinic_schedule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opening_hours", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("iv_infusion_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("iv_recovery_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("spravato_dosing_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("spravato_monitoring_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("chairs_per_clinician", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE clinic_schedule SET opening_hours = '{}', iv_infusion_minutes = 40, "
        "iv_recovery_minutes = 60, spravato_dosing_minutes = 15, "
        "spravato_monitoring_minutes = 120, chairs_per_clinician = 2"
    )
    bind = op.get_bind()
    chairs = sa.table(
        "chair",
        sa.column("clinic_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("position", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    counts = dict(
        bind.execute(sa.text("SELECT clinic_id, chairs_per_day FROM clinic_schedule")).all()
    )
    for clinic_id in bind.execute(sa.text("SELECT DISTINCT clinic_id FROM appointment")).scalars():
        counts.setdefault(clinic_id, 6)
    rows = [
        {"clinic_id": clinic_id, "name": f"Chair {n}", "position": n, "active": True}
        for clinic_id, count in counts.items()
        for n in range(1, max(count, 1) + 1)
    ]
    if rows:
        op.bulk_insert(chairs, rows)
    with op.batch_alter_table("clinic_schedule", schema=None) as batch_op:
        for name in (
            "opening_hours",
            "iv_infusion_minutes",
            "iv_recovery_minutes",
            "spravato_dosing_minutes",
            "spravato_monitoring_minutes",
            "chairs_per_clinician",
        ):
            batch_op.alter_column(name, nullable=False)
        batch_op.drop_column("chairs_per_day")

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_time", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("end_time", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("chair_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("clinician_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_chair_id_chair"), "chair", ["chair_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_clinician_id_user_account"),
            "user_account",
            ["clinician_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_session_id_treatment_session"),
            "treatment_session",
            ["session_id"],
            ["id"],
        )
        batch_op.create_unique_constraint(batch_op.f("uq_appointment_session_id"), ["session_id"])
    _place_existing_appointments(bind)
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.alter_column("start_time", nullable=False)
        batch_op.alter_column("end_time", nullable=False)
        batch_op.alter_column("chair_id", nullable=False)

    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointment ADD CONSTRAINT appointment_chair_no_overlap "
            "EXCLUDE USING gist (chair_id WITH =, "
            "tsrange(day + start_time, day + end_time) WITH &&) "
            "WHERE (status IN ('booked', 'attended'))"
        )


def _place_existing_appointments(bind):
    """Appointments booked before times existed: one after another on the clinic's chairs from
    08:00, each the length of its treatment, with the course's clinician."""
    chairs = {}
    for chair_id, clinic_id in bind.execute(
        sa.text("SELECT id, clinic_id FROM chair ORDER BY clinic_id, position, id")
    ):
        chairs.setdefault(clinic_id, []).append(chair_id)
    clinicians = dict(
        bind.execute(sa.text("SELECT referral_id, clinician_id FROM treatment_course")).all()
    )
    rows = bind.execute(
        sa.text(
            "SELECT id, clinic_id, day, modality, referral_id FROM appointment "
            "ORDER BY clinic_id, day, id"
        )
    ).all()
    placed = {}
    for appointment_id, clinic_id, day, modality, referral_id in rows:
        own = chairs[clinic_id]
        index = placed.get((clinic_id, day), 0)
        placed[(clinic_id, day)] = index + 1
        minutes = SPRAVATO_MINUTES if modality == "spravato" else IV_MINUTES
        start = datetime.combine(datetime(2000, 1, 1), FIRST_START) + timedelta(
            minutes=(index // len(own)) * SPRAVATO_MINUTES
        )
        end = start + timedelta(minutes=minutes)
        bind.execute(
            sa.text(
                "UPDATE appointment SET start_time = :s, end_time = :e, chair_id = :c, "
                "clinician_id = :u WHERE id = :id"
            ).bindparams(sa.bindparam("s", type_=sa.Time()), sa.bindparam("e", type_=sa.Time())),
            {
                "s": start.time(),
                "e": end.time(),
                "c": own[index % len(own)],
                "u": clinicians.get(referral_id),
                "id": appointment_id,
            },
        )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE appointment DROP CONSTRAINT appointment_chair_no_overlap")
    op.execute("UPDATE appointment SET status = 'booked' WHERE status = 'attended'")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_appointment_session_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_session_id_treatment_session"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_clinician_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_appointment_chair_id_chair"), type_="foreignkey")
        batch_op.drop_column("session_id")
        batch_op.drop_column("clinician_id")
        batch_op.drop_column("chair_id")
        batch_op.drop_column("end_time")
        batch_op.drop_column("start_time")
    with op.batch_alter_table("clinic_schedule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chairs_per_day", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE clinic_schedule SET chairs_per_day = (SELECT count(*) FROM chair "
        "WHERE chair.clinic_id = clinic_schedule.clinic_id AND chair.active)"
    )
    with op.batch_alter_table("clinic_schedule", schema=None) as batch_op:
        batch_op.alter_column("chairs_per_day", nullable=False)
        for name in (
            "chairs_per_clinician",
            "spravato_monitoring_minutes",
            "spravato_dosing_minutes",
            "iv_recovery_minutes",
            "iv_infusion_minutes",
            "opening_hours",
        ):
            batch_op.drop_column(name)
    op.drop_index(op.f("ix_clinician_hours_clinic_id"), table_name="clinician_hours")
    op.drop_table("clinician_hours")
    op.drop_index(op.f("ix_chair_clinic_id"), table_name="chair")
    op.drop_table("chair")
