import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { EvnApi } from './api';
import { CommandIDs, addCommands, openCopyArgs } from './commands';
import { comparePlugin } from './compare';
import { DEFAULTS, EvnArchiveModel } from './model';
import { openLinkPlugin } from './openlink';
import { INotebookLike } from './prefill';
import { rememberAuthor } from './remember';
import { requestAPI } from './request';
import { IDefaults, IEvnArchiveModel } from './tokens';
import { ArchivePanel } from './widgets/ArchivePanel';

const PLUGIN_ID = 'jupyterlab-evn-submit:plugin';

/**
 * The EVN archive: a left sidebar panel, commands in the palette, the File
 * menu, the notebook toolbar and the file browser, and the settings.
 */
const plugin: JupyterFrontEndPlugin<IEvnArchiveModel> = {
  id: PLUGIN_ID,
  description: 'Submit notebooks to the EVN archive and open archived copies.',
  autoStart: true,
  provides: IEvnArchiveModel,
  requires: [IDocumentManager],
  optional: [
    ITranslator,
    ISettingRegistry,
    INotebookTracker,
    IFileBrowserFactory,
    ICommandPalette,
    ILayoutRestorer
  ],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null,
    tracker: INotebookTracker | null,
    fileBrowserFactory: IFileBrowserFactory | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): IEvnArchiveModel => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('jupyterlab_evn_submit');

    const model = new EvnArchiveModel({
      api: new EvnApi(requestAPI),
      translator,
      readNotebook: async path => {
        // The open notebook as it is now, else the file as saved.
        const widget = docManager.findWidget(path);
        if (widget) {
          await widget.context.ready;
          return widget.context.model.toJSON() as INotebookLike;
        }
        const file = await app.serviceManager.contents.get(path, {
          content: true
        });
        return file.content as INotebookLike;
      },
      saveNotebook: async path => {
        // Never submit a stale notebook: save the open one first.
        const widget = docManager.findWidget(path);
        if (widget && widget.context.model.dirty) {
          await widget.context.save();
        }
      }
    });

    const panel = new ArchivePanel({
      model,
      translator,
      onSubmit: () => void app.commands.execute(CommandIDs.send),
      onLogin: () => void app.commands.execute(CommandIDs.login),
      onOpenCopy: (item, version) =>
        void app.commands.execute(
          CommandIDs.openCopy,
          openCopyArgs(item, version)
        ),
      canCompare: () => app.commands.hasCommand(CommandIDs.compare),
      onCompare: (item, base, remote) =>
        void app.commands.execute(CommandIDs.compare, {
          ...openCopyArgs(item),
          base,
          remote
        }),
      onCopy: text => Clipboard.copyToSystem(text)
    });
    app.shell.add(panel, 'left', { rank: 850 });
    restorer?.add(panel, 'evn-submit-panel');

    let showToolbarButton = true;
    addCommands(app, {
      model,
      panel,
      trans,
      docManager,
      tracker,
      fileBrowserFactory,
      showToolbarButton: () => showToolbarButton
    });

    if (palette) {
      const category = trans.__('EVN Archive');
      for (const command of [
        CommandIDs.openPanel,
        CommandIDs.submit,
        CommandIDs.send,
        CommandIDs.login,
        CommandIDs.loginDevice,
        CommandIDs.logout,
        CommandIDs.browse
      ]) {
        palette.addItem({ command, category });
      }
    }

    // Follow the current notebook, so the form is always about what is open.
    tracker?.currentChanged.connect((_, widget) => {
      if (
        widget &&
        model.submit.kind !== 'saving' &&
        model.submit.kind !== 'uploading'
      ) {
        model.setNotebookPath(widget.context.path);
      }
    });
    model.changed.connect(() => app.commands.notifyCommandChanged());

    if (settingRegistry) {
      void settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            const defaults: IDefaults = {
              license: settings.get('defaultLicense').composite as string,
              authors:
                (settings.get('defaultAuthors').composite as any[]) ?? [],
              affiliation: settings.get('affiliation').composite as string,
              orcid: settings.get('orcid').composite as string,
              outputPolicy: settings.get('outputPolicy')
                .composite as IDefaults['outputPolicy'],
              outputBudgetMb: settings.get('outputBudgetMb').composite as number
            };
            model.setDefaults({ ...DEFAULTS, ...defaults });
            showToolbarButton =
              settings.get('showToolbarButton').composite !== false;
            app.commands.notifyCommandChanged(CommandIDs.submit);
          };
          apply();
          settings.changed.connect(apply);
          // The next form starts with the ORCID iD and affiliation used now.
          model.submitted.connect(() => {
            rememberAuthor(settings, model.form, model.status?.user).catch(
              reason =>
                console.error(
                  'jupyterlab-evn-submit: remembering the author failed.',
                  reason
                )
            );
          });
        })
        .catch(reason => {
          console.error(
            'jupyterlab-evn-submit: settings failed to load.',
            reason
          );
        });
    }

    void app.restored.then(() => model.refreshStatus());
    return model;
  }
};

export default [plugin, comparePlugin, openLinkPlugin];
