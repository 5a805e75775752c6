"""The organisation's simple-e-signature agreement (versioned) and who accepted it.

The administrator sets the text (a new version in the admin); until then a default
text (version "1") is created on first need. A guest accepts the current version
before their first code-confirmed decision; the version goes into the decision's
evidence.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from sogla.core.audit import audit_record
from sogla.core.request_meta import RequestMeta
from sogla.external.models import AgreementAcceptance, SignatureAgreement

DEFAULT_RU = (
    "Соглашение об использовании простой электронной подписи.\n\n"
    "1. Стороны признают решение (согласование, подписание), принятое участником на "
    "странице Sogla и подтверждённое одноразовым кодом, направленным на его адрес "
    "электронной почты или номер телефона, подписанным простой электронной подписью "
    "(ст. 5, 9 Федерального закона от 06.04.2011 № 63-ФЗ).\n"
    "2. Ключом простой электронной подписи является пара: ссылка, направленная на "
    "адрес участника, и одноразовый код. Участник обязуется хранить их в тайне.\n"
    "3. Решение, подтверждённое кодом, равнозначно документу на бумажном носителе, "
    "подписанному собственноручной подписью.\n"
    "4. Лицо, подписавшее документ, определяется по адресу, на который направлены "
    "ссылка и код; сведения о подтверждении сохраняются в листе согласования."
)
DEFAULT_EN = (
    "Agreement on the use of a simple electronic signature.\n\n"
    "1. The parties recognise a decision (approval, signature) made by a "
    "participant on a Sogla page and confirmed with a one-time code sent to their "
    "e-mail address or phone number as signed with a simple electronic signature "
    "(articles 5 and 9 of Russian Federal Law No. 63-FZ of 06.04.2011).\n"
    "2. The key of the simple electronic signature is the pair: the link sent to "
    "the participant's address and the one-time code. The participant keeps both "
    "secret.\n"
    "3. A decision confirmed with a code is equivalent to a paper document signed "
    "by hand.\n"
    "4. The signer is identified by the address the link and the code were sent "
    "to; the confirmation is kept in the approval sheet."
)


def agreement_current(organisation_id: int) -> SignatureAgreement:
    found = SignatureAgreement.objects.for_org(organisation_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return SignatureAgreement.objects.create(
                organisation_id=organisation_id,
                version="1",
                text_ru=DEFAULT_RU,
                text_en=DEFAULT_EN,
            )
    except IntegrityError:
        return SignatureAgreement.objects.for_org(organisation_id).get(version="1")


def agreement_accepted(agreement: SignatureAgreement, email: str) -> bool:
    return AgreementAcceptance.objects.filter(
        agreement=agreement, email=email.strip().lower()
    ).exists()


def agreement_accept(
    *, agreement: SignatureAgreement, email: str, meta: RequestMeta, document_id: int
) -> None:
    email = email.strip().lower()
    with transaction.atomic():
        _row, created = AgreementAcceptance.objects.get_or_create(
            organisation_id=agreement.organisation_id,
            agreement=agreement,
            email=email,
            defaults={
                "accepted_at": timezone.now(),
                "ip": meta.ip[:45],
                "user_agent": meta.user_agent[:500],
            },
        )
        if created:
            audit_record(
                organisation_id=agreement.organisation_id,
                verb="agreement.accepted",
                actor_label=email,
                target_type="agreement",
                target_id=agreement.pk,
                document_id=document_id,
                payload={"version": agreement.version},
                request_meta=meta,
            )
