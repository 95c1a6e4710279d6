import { JupyterFrontEnd } from '@jupyterlab/application';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { evnArchiveIcon } from './icons';
import { notifyError, submitWithNotifications } from './notifications';
import { IEvnArchiveModel, INotebookSummary } from './tokens';
import { ArchivePanel, Section } from './widgets/ArchivePanel';

/**
 * The command IDs of the extension; each is in the palette, and the schema
 * puts them in the File menu, the notebook toolbar and the file browser.
 */
export namespace CommandIDs {
  export const openPanel = 'evn-submit:open-panel';
  export const submit = 'evn-submit:submit';
  export const submitFile = 'evn-submit:submit-file';
  export const send = 'evn-submit:send';
  export const login = 'evn-submit:login';
  export const loginDevice = 'evn-submit:login-device';
  export const logout = 'evn-submit:logout';
  export const browse = 'evn-submit:browse';
  export const openCopy = 'evn-submit:open-copy';
  /**
   * Compare two versions (`{experiment, owner, name, base, remote}`); added
   * by the compare plugin, so it may be missing: ask `hasCommand` first.
   */
  export const compare = 'evn-submit:compare';
}

export interface ICommandOptions {
  model: IEvnArchiveModel;
  panel: ArchivePanel;
  trans: TranslationBundle;
  docManager: IDocumentManager;
  tracker: INotebookTracker | null;
  fileBrowserFactory: IFileBrowserFactory | null;
  showToolbarButton: () => boolean;
}

/** Add every command: the submit, login and archive groups. */
export function addCommands(
  app: JupyterFrontEnd,
  options: ICommandOptions
): void {
  addSubmitCommands(app, options);
  addLoginCommands(app, options);
  addArchiveCommands(app, options);
}

function isLoggedIn(model: IEvnArchiveModel): boolean {
  return !!model.status?.logged_in;
}

/** Show the panel's section `section`. */
function showSection(
  app: JupyterFrontEnd,
  panel: ArchivePanel,
  section: Section
): void {
  app.shell.activateById(panel.id);
  panel.showSection(section);
}

/** Submit the current notebook, a selected file, or send the form now. */
function addSubmitCommands(
  app: JupyterFrontEnd,
  options: ICommandOptions
): void {
  const { model, panel, trans, tracker } = options;
  const currentPath = (): string | null =>
    tracker?.currentWidget?.context.path ?? null;

  const openFor = (path: string | null) => {
    if (path) {
      if (path === model.notebookPath) {
        void model.refreshPreview();
      }
      model.setNotebookPath(path);
    }
    showSection(app, panel, 'submit');
    void model.refreshStatus();
  };

  app.commands.addCommand(CommandIDs.submit, {
    label: args =>
      args.toolbar ? '' : trans.__('Submit Notebook to EVN Archive…'),
    caption: trans.__('Submit this notebook to the EVN archive'),
    icon: evnArchiveIcon,
    isEnabled: () => !!currentPath(),
    isVisible: args => (args.toolbar ? options.showToolbarButton() : true),
    execute: () => openFor(currentPath())
  });

  app.commands.addCommand(CommandIDs.submitFile, {
    label: trans.__('Submit to EVN Archive…'),
    caption: trans.__('Submit the selected notebook to the EVN archive'),
    icon: evnArchiveIcon,
    isVisible: () => !!selectedNotebook(options.fileBrowserFactory),
    execute: args => {
      const path =
        (args.path as string | undefined) ??
        selectedNotebook(options.fileBrowserFactory);
      openFor(path ?? null);
    }
  });

  app.commands.addCommand(CommandIDs.send, {
    label: trans.__('Send the Submission Form Now'),
    caption: trans.__(
      'Save the notebook and upload it with the form’s metadata'
    ),
    isEnabled: () => isLoggedIn(model) && !!model.notebookPath,
    execute: () => submitWithNotifications(model, trans)
  });
}

/** Log in (popup or code) and log out. */
function addLoginCommands(
  app: JupyterFrontEnd,
  options: ICommandOptions
): void {
  const { model, panel, trans } = options;
  const loggedOut = () => !isLoggedIn(model);

  app.commands.addCommand(CommandIDs.login, {
    label: trans.__('Log In to the EVN Archive'),
    isEnabled: loggedOut,
    execute: () => {
      showSection(app, panel, 'account');
      // startLogin opens the popup synchronously, within the user's gesture.
      return model.startLogin();
    }
  });

  app.commands.addCommand(CommandIDs.loginDevice, {
    label: trans.__('Log In to the EVN Archive with a Code'),
    isEnabled: loggedOut,
    execute: () => {
      showSection(app, panel, 'account');
      return model.startDeviceLogin();
    }
  });

  app.commands.addCommand(CommandIDs.logout, {
    label: trans.__('Log Out of the EVN Archive'),
    isEnabled: () => isLoggedIn(model),
    execute: () => model.logout()
  });
}

/** Open the panel, browse an experiment, open a copy of a notebook. */
function addArchiveCommands(
  app: JupyterFrontEnd,
  options: ICommandOptions
): void {
  const { model, panel, trans, docManager } = options;

  app.commands.addCommand(CommandIDs.openPanel, {
    label: trans.__('Open the EVN Archive Panel'),
    icon: evnArchiveIcon,
    execute: () => {
      app.shell.activateById(panel.id);
    }
  });

  app.commands.addCommand(CommandIDs.browse, {
    label: trans.__('Browse the EVN Archive'),
    caption: trans.__('Search the archive, or list one experiment'),
    icon: evnArchiveIcon,
    execute: args => {
      showSection(app, panel, 'archive');
      const experiment = args.experiment as string | undefined;
      if (experiment) {
        return model.browse(experiment);
      }
    }
  });

  app.commands.addCommand(CommandIDs.openCopy, {
    label: trans.__('Open a Copy of an Archived Notebook'),
    execute: async args => {
      const item = args as unknown as INotebookSummary & { version?: number };
      if (!item.experiment || !item.owner || !item.name) {
        return;
      }
      try {
        const path = await model.openCopy(
          item,
          args.version as number | undefined
        );
        return docManager.openOrReveal(path);
      } catch (error) {
        notifyError(
          trans,
          trans.__('Opening a copy of %1 failed', item.name),
          error
        );
      }
    }
  });
}

/** The command arguments that open a copy of `item`. */
export function openCopyArgs(
  item: INotebookSummary,
  version?: number
): ReadonlyPartialJSONObject {
  return {
    experiment: item.experiment,
    owner: item.owner,
    name: item.name,
    ...(version !== undefined ? { version } : {})
  };
}

function selectedNotebook(
  factory: IFileBrowserFactory | null
): string | undefined {
  const browser = factory?.tracker.currentWidget;
  if (!browser) {
    return undefined;
  }
  const item = browser.selectedItems().next();
  if (item.done || !item.value) {
    return undefined;
  }
  return item.value.type === 'notebook' || item.value.path.endsWith('.ipynb')
    ? item.value.path
    : undefined;
}
