"""Hand the workflow's tables over to the apps that own them now (cases, messaging, reminders,
imports, selfservice, api).

Nothing moves in the database: every model keeps its table (``db_table``) and its history
table, so this migration only tells Django's migration state that the models left this app
(``SeparateDatabaseAndState`` with no database operation). Each new app's ``0001_initial``
takes them over the same way. The content types (and with them the permissions, the role
groups' grants and the admin log) are renamed to the new app labels, so nothing is orphaned.
"""

from django.db import migrations

# Each model this app held, and the app that holds it now.
NEW_APP = {
    "callback": "cases",
    "calldisposition": "cases",
    "case": "cases",
    "dispositioncode": "cases",
    "historicalcallback": "cases",
    "historicalcase": "cases",
    "historicaldispositioncode": "cases",
    "historicalmessagetemplate": "messaging",
    "historicalnote": "cases",
    "historicalportaldispute": "selfservice",
    "historicalportalevent": "selfservice",
    "historicalportallink": "selfservice",
    "historicalportalplanrequest": "selfservice",
    "historicalportalsettings": "selfservice",
    "historicalqueueweights": "cases",
    "historicalreminderstage": "reminders",
    "historicalreminderstrategy": "reminders",
    "idempotencykey": "api",
    "importissue": "imports",
    "importjob": "imports",
    "importrejectedrow": "imports",
    "inboxmessage": "messaging",
    "messagetemplate": "messaging",
    "note": "cases",
    "portaldispute": "selfservice",
    "portalevent": "selfservice",
    "portalfeedback": "selfservice",
    "portallink": "selfservice",
    "portalplanrequest": "selfservice",
    "portalsettings": "selfservice",
    "printjob": "messaging",
    "queueweights": "cases",
    "reminder": "reminders",
    "reminderrun": "reminders",
    "reminderstage": "reminders",
    "reminderstrategy": "reminders",
    "reveallog": "cases",
}


def rename_content_types(apps, schema_editor, *, forward=True):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app in NEW_APP.items():
        source, target = ("collections_app", app) if forward else (app, "collections_app")
        if ContentType.objects.filter(app_label=target, model=model).exists():
            continue  # already there: the old row is left for remove_stale_contenttypes
        ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def rename_back(apps, schema_editor):
    rename_content_types(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0009_portal"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='callback',
                    name='assigned_to',
                ),
                migrations.RemoveField(
                    model_name='callback',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='callback',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='calldisposition',
                    name='attempt',
                ),
                migrations.RemoveField(
                    model_name='calldisposition',
                    name='code',
                ),
                migrations.RemoveField(
                    model_name='calldisposition',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='calldisposition',
                    name='recorded_by',
                ),
                migrations.RemoveField(
                    model_name='case',
                    name='assigned_to',
                ),
                migrations.RemoveField(
                    model_name='case',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='historicalcallback',
                    name='assigned_to',
                ),
                migrations.RemoveField(
                    model_name='historicalcallback',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='historicalcallback',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='historicalcallback',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalcase',
                    name='assigned_to',
                ),
                migrations.RemoveField(
                    model_name='historicalcase',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='historicalcase',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicaldispositioncode',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalmessagetemplate',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalnote',
                    name='author',
                ),
                migrations.RemoveField(
                    model_name='historicalnote',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='historicalnote',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalportaldispute',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='historicalportaldispute',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalportaldispute',
                    name='link',
                ),
                migrations.RemoveField(
                    model_name='historicalportalevent',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='historicalportalevent',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalportalevent',
                    name='link',
                ),
                migrations.RemoveField(
                    model_name='historicalportallink',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='historicalportallink',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalportallink',
                    name='loan',
                ),
                migrations.RemoveField(
                    model_name='historicalportalplanrequest',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='historicalportalplanrequest',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalportalplanrequest',
                    name='plan',
                ),
                migrations.RemoveField(
                    model_name='historicalportalsettings',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalqueueweights',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalreminderstage',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='historicalreminderstage',
                    name='strategy',
                ),
                migrations.RemoveField(
                    model_name='historicalreminderstrategy',
                    name='history_user',
                ),
                migrations.RemoveField(
                    model_name='idempotencykey',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='importissue',
                    name='job',
                ),
                migrations.RemoveField(
                    model_name='importjob',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='importrejectedrow',
                    name='job',
                ),
                migrations.RemoveField(
                    model_name='inboxmessage',
                    name='debtor',
                ),
                migrations.DeleteModel(
                    name='MessageTemplate',
                ),
                migrations.RemoveField(
                    model_name='note',
                    name='author',
                ),
                migrations.RemoveField(
                    model_name='note',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='portaldispute',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='portaldispute',
                    name='link',
                ),
                migrations.RemoveField(
                    model_name='portalevent',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='portalevent',
                    name='link',
                ),
                migrations.RemoveField(
                    model_name='portalfeedback',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='portalfeedback',
                    name='link',
                ),
                migrations.RemoveField(
                    model_name='portallink',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='portallink',
                    name='loan',
                ),
                migrations.RemoveField(
                    model_name='portalplanrequest',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='portalplanrequest',
                    name='plan',
                ),
                migrations.DeleteModel(
                    name='PortalSettings',
                ),
                migrations.RemoveField(
                    model_name='printjob',
                    name='debtor',
                ),
                migrations.DeleteModel(
                    name='QueueWeights',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='contact_attempt',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='installment',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='loan',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='plan_installment',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='stage',
                ),
                migrations.DeleteModel(
                    name='ReminderRun',
                ),
                migrations.RemoveField(
                    model_name='reminderstage',
                    name='strategy',
                ),
                migrations.RemoveField(
                    model_name='reveallog',
                    name='contact_point',
                ),
                migrations.RemoveField(
                    model_name='reveallog',
                    name='debtor',
                ),
                migrations.RemoveField(
                    model_name='reveallog',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='Callback',
                ),
                migrations.DeleteModel(
                    name='DispositionCode',
                ),
                migrations.DeleteModel(
                    name='CallDisposition',
                ),
                migrations.DeleteModel(
                    name='Case',
                ),
                migrations.DeleteModel(
                    name='HistoricalCallback',
                ),
                migrations.DeleteModel(
                    name='HistoricalCase',
                ),
                migrations.DeleteModel(
                    name='HistoricalDispositionCode',
                ),
                migrations.DeleteModel(
                    name='HistoricalMessageTemplate',
                ),
                migrations.DeleteModel(
                    name='HistoricalNote',
                ),
                migrations.DeleteModel(
                    name='HistoricalPortalDispute',
                ),
                migrations.DeleteModel(
                    name='HistoricalPortalEvent',
                ),
                migrations.DeleteModel(
                    name='HistoricalPortalLink',
                ),
                migrations.DeleteModel(
                    name='HistoricalPortalPlanRequest',
                ),
                migrations.DeleteModel(
                    name='HistoricalPortalSettings',
                ),
                migrations.DeleteModel(
                    name='HistoricalQueueWeights',
                ),
                migrations.DeleteModel(
                    name='HistoricalReminderStage',
                ),
                migrations.DeleteModel(
                    name='HistoricalReminderStrategy',
                ),
                migrations.DeleteModel(
                    name='IdempotencyKey',
                ),
                migrations.DeleteModel(
                    name='ImportIssue',
                ),
                migrations.DeleteModel(
                    name='ImportJob',
                ),
                migrations.DeleteModel(
                    name='ImportRejectedRow',
                ),
                migrations.DeleteModel(
                    name='InboxMessage',
                ),
                migrations.DeleteModel(
                    name='Note',
                ),
                migrations.DeleteModel(
                    name='PortalDispute',
                ),
                migrations.DeleteModel(
                    name='PortalEvent',
                ),
                migrations.DeleteModel(
                    name='PortalFeedback',
                ),
                migrations.DeleteModel(
                    name='PortalLink',
                ),
                migrations.DeleteModel(
                    name='PortalPlanRequest',
                ),
                migrations.DeleteModel(
                    name='PrintJob',
                ),
                migrations.DeleteModel(
                    name='Reminder',
                ),
                migrations.DeleteModel(
                    name='ReminderStage',
                ),
                migrations.DeleteModel(
                    name='ReminderStrategy',
                ),
                migrations.DeleteModel(
                    name='RevealLog',
                ),
    
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_types, rename_back),
    ]
