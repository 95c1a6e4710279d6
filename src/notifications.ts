import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { messageOf } from './model';
import { ResponseError } from './request';
import { IEvnArchiveModel } from './tokens';

/**
 * Feedback through JupyterLab's notifications: one in-progress notification
 * per action, updated to success (with the link) or to an error (with a
 * details action).
 */

function detailsAction(
  trans: TranslationBundle,
  title: string,
  error: unknown
): Notification.IAction {
  const details =
    error instanceof ResponseError && error.details
      ? error.details
      : messageOf(error);
  return {
    label: trans.__('Details'),
    caption: trans.__('Show what went wrong'),
    callback: () => {
      void showErrorMessage(title, details);
    }
  };
}

export async function submitWithNotifications(
  model: IEvnArchiveModel,
  trans: TranslationBundle
): Promise<void> {
  const path = model.notebookPath;
  if (!path) {
    return;
  }
  const id = Notification.emit(
    trans.__('Submitting %1 to the EVN archive…', path),
    'in-progress',
    { autoClose: false }
  );
  try {
    const result = await model.submitNotebook();
    if (!result) {
      Notification.dismiss(id);
      return;
    }
    Notification.update({
      id,
      type: 'success',
      message:
        trans.__(
          '%1 is archived as version %2 of %3.',
          result.name,
          result.version,
          result.experiment
        ) +
        (result.public_from
          ? ' ' +
            trans.__(
              'It stays private until %1, when the data become public.',
              result.public_from.slice(0, 10)
            )
          : ''),
      autoClose: 15000,
      actions: [
        {
          label: trans.__('Open permalink'),
          caption: result.permalink,
          callback: () => {
            window.open(result.permalink, '_blank', 'noopener');
          }
        }
      ]
    });
  } catch (error) {
    const title = trans.__('Submitting %1 failed', path);
    Notification.update({
      id,
      type: 'error',
      message: `${title}: ${messageOf(error)}`,
      autoClose: false,
      actions: [detailsAction(trans, title, error)]
    });
  }
}

export function notifyError(
  trans: TranslationBundle,
  title: string,
  error: unknown
): void {
  Notification.error(`${title}: ${messageOf(error)}`, {
    autoClose: false,
    actions: [detailsAction(trans, title, error)]
  });
}
