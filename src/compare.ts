import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { PromiseDelegate, ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Panel } from '@lumino/widgets';
import { EvnApi } from './api';
import { CommandIDs } from './commands';
import { evnArchiveIcon } from './icons';
import { notifyError } from './notifications';
import { requestAPI } from './request';

/**
 * Compare two archived versions of a notebook with nbdime, in the main area:
 * the command `CommandIDs.compare` (`evn-submit:compare`).
 */

/** Comparisons opened so far: each tab's id is unique. */
let comparisons = 0;

/** The command's arguments: which notebook, which versions. */
export interface ICompareArgs {
  experiment: string;
  owner: string;
  name: string;
  /** The older side; without it, the version before `remote`. */
  base?: number;
  /** The newer side; without it, the latest version. */
  remote?: number;
}

export interface ICompareOptions {
  rendermime: IRenderMimeRegistry;
  translator: ITranslator;
}

/** Add `evn-submit:compare`: one tab per pair, shown again when asked again. */
export function addCompareCommand(
  app: JupyterFrontEnd,
  api: EvnApi,
  options: ICompareOptions
): void {
  const trans = options.translator.load('jupyterlab_evn_submit');
  const open = new Map<string, MainAreaWidget<Panel>>();

  app.commands.addCommand(CommandIDs.compare, {
    label: trans.__('Compare Versions of an Archived Notebook'),
    caption: trans.__('Show what changed between two archived versions'),
    icon: evnArchiveIcon,
    execute: args => {
      const target = compareArgs(args);
      if (!target) {
        throw new Error(
          `${CommandIDs.compare} needs experiment, owner and name (and may take base and remote)`
        );
      }
      const key = JSON.stringify(target);
      let widget = open.get(key);
      if (!widget) {
        widget = openComparison(api, target, options, trans);
        open.set(key, widget);
        widget.disposed.connect(() => open.delete(key));
        // a failed comparison is tried afresh the next time, in a new tab
        widget.revealed.catch(() => open.delete(key));
        app.shell.add(widget, 'main');
      }
      app.shell.activateById(widget.id);
      return widget;
    }
  });
}

/**
 * Its own plugin: it needs the application's rendermime registry (nbdime
 * renders cells and outputs with it), and nothing of the panel.
 */
export const comparePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-evn-submit:compare',
  description: 'Compare two archived versions of a notebook with nbdime.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    translator: ITranslator | null
  ) =>
    addCompareCommand(app, new EvnApi(requestAPI), {
      rendermime,
      translator: translator ?? nullTranslator
    })
};

/** The arguments as an `ICompareArgs`, or null when one is missing. */
export function compareArgs(
  args: ReadonlyPartialJSONObject
): ICompareArgs | null {
  const { experiment, owner, name } = args;
  if (
    typeof experiment !== 'string' ||
    typeof owner !== 'string' ||
    typeof name !== 'string' ||
    !experiment ||
    !owner ||
    !name
  ) {
    return null;
  }
  const version = (value: unknown) =>
    value === undefined || value === null || value === ''
      ? undefined
      : Number(value);
  return {
    experiment,
    owner,
    name,
    base: version(args.base),
    remote: version(args.remote)
  };
}

function openComparison(
  api: EvnApi,
  target: ICompareArgs,
  options: ICompareOptions,
  trans: TranslationBundle
): MainAreaWidget<Panel> {
  const content = new Panel();
  content.addClass('jp-evn-submit-compare');
  const ready = new PromiseDelegate<void>();
  const widget = new MainAreaWidget({ content, reveal: ready.promise });
  widget.id = `jp-evn-submit-compare-${++comparisons}`;
  widget.title.label = trans.__('%1: comparing…', target.name);
  widget.title.caption = trans.__(
    '%1 by %2 in %3',
    target.name,
    target.owner,
    target.experiment
  );
  widget.title.icon = evnArchiveIcon;
  // A failure shows in the tab (MainAreaWidget) and as a notification.
  widget.revealed.catch(() => undefined);
  loadComparison(api, target, options, trans, widget).then(
    () => ready.resolve(),
    error => {
      notifyError(
        trans,
        trans.__('Comparing versions of %1 failed', target.name),
        error
      );
      ready.reject(error);
    }
  );
  return widget;
}

async function loadComparison(
  api: EvnApi,
  target: ICompareArgs,
  options: ICompareOptions,
  trans: TranslationBundle,
  widget: MainAreaWidget<Panel>
): Promise<void> {
  const { base, remote } = target;
  // nbdime is large: fetched with the first comparison, never at start.
  const [answer, view] = await Promise.all([
    api.diff(target.experiment, target.owner, target.name, { base, remote }),
    import('./widgets/DiffWidget')
  ]);
  const label = (version: number) => trans.__('Version %1', version);
  widget.title.label = trans.__(
    '%1: v%2 ↔ v%3',
    target.name,
    answer.base_version,
    answer.remote_version
  );
  widget.content.addWidget(
    await view.createDiffWidget({
      base: answer.base,
      diff: answer.diff,
      baseLabel: label(answer.base_version),
      remoteLabel: label(answer.remote_version),
      rendermime: options.rendermime,
      translator: options.translator
    })
  );
}
