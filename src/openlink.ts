import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { EvnApi } from './api';
import { CommandIDs } from './commands';
import { SCHEMAS } from './contract';
import { requestAPI } from './request';
import { RuleError, experimentCode, notebookName } from './rules';

/**
 * Links that open a copy of an archived notebook "from anywhere" (a paper,
 * the archive's web page): `GET evn-submit/open?…` checks the link and sends
 * the browser to `lab?evn-open=EXPERIMENT/owner/name[@version]`; this plugin
 * reads that, asks the reader, and only on Open runs `evn-submit:open-copy`.
 */

/** The page URL's query parameter that names the notebook to open. */
export const OPEN_PARAM = 'evn-open';

/** The notebook a link names; without `version` the latest. */
export interface IOpenTarget {
  experiment: string;
  owner: string;
  name: string;
  version?: number;
}

/** `EXPERIMENT/owner/name[@version]` checked by the archive's rules, or a `RuleError`. */
export function parseOpenTarget(value: string): IOpenTarget {
  const parts = value.split('/');
  if (parts.length !== 3) {
    throw new RuleError(
      `'${value.slice(0, 80)}' does not name a notebook as experiment/owner/name[@version]`
    );
  }
  const [rawExperiment, owner, last] = parts;
  const at = last.lastIndexOf('@');
  const rawName = at < 0 ? last : last.slice(0, at);
  const rawVersion = at < 0 ? '' : last.slice(at + 1);
  const user = SCHEMAS.Username;
  if (
    owner.length > user.maxLength ||
    owner.includes('..') ||
    !new RegExp(user.pattern).test(owner)
  ) {
    throw new RuleError(`'${owner.slice(0, 40)}' is not an archive username`);
  }
  if (at >= 0 && !/^[1-9][0-9]{0,8}$/.test(rawVersion)) {
    throw new RuleError('the version must be a positive number');
  }
  return {
    experiment: experimentCode(rawExperiment),
    owner,
    name: notebookName(rawName),
    ...(rawVersion ? { version: Number(rawVersion) } : {})
  };
}

/** The value of `evn-open` in `href`, or `null` when there is none. */
export function openParam(href: string): string | null {
  return new URL(href).searchParams.get(OPEN_PARAM);
}

/** `href` without `evn-open` (the rest of the query and the hash kept). */
export function withoutOpenParam(href: string): string {
  const url = new URL(href);
  url.searchParams.delete(OPEN_PARAM);
  return url.toString();
}

/** The portal URL links go through, as the `portalUrl` setting last said. */
let currentPortalUrl = '';

/** Follow the `portalUrl` setting (the plugin calls this when it changes). */
export function setPortalUrl(portalUrl: string): void {
  currentPortalUrl = portalUrl;
}

/**
 * The link that opens a copy of `item` (at its `version`) in the reader's own
 * JupyterLab: with a portal URL through its JupyterHub's `/hub/user-redirect/`,
 * without one this server's own `evn-submit/open`.
 */
export function openLink(
  item: IOpenTarget,
  portalUrl: string = currentPortalUrl
): string {
  const query = new URLSearchParams({
    experiment: item.experiment,
    owner: item.owner,
    name: item.name
  });
  if (item.version !== undefined) {
    query.set('version', String(item.version));
  }
  const path = `evn-submit/open?${query.toString()}`;
  const portal = portalUrl.trim().replace(/\/+$/, '');
  return portal
    ? `${portal}/hub/user-redirect/${path}`
    : URLExt.join(PageConfig.getBaseUrl(), path);
}

/**
 * The notebook's title as the archive's search gives it; its name when the
 * search does not find it or fails (the question is asked all the same).
 */
export async function findTitle(
  api: EvnApi,
  target: IOpenTarget
): Promise<string> {
  try {
    const { notebooks } = await api.search({
      experiment: target.experiment,
      limit: 100
    });
    const hit = notebooks.find(
      n => n.owner === target.owner && n.name === target.name
    );
    return hit?.title || target.name;
  } catch {
    return target.name;
  }
}

/** Ask the reader; `true` only for Open. */
export async function confirmOpen(
  target: IOpenTarget,
  trans: TranslationBundle,
  title: string = target.name
): Promise<boolean> {
  const version =
    target.version !== undefined
      ? trans.__('version %1', target.version)
      : trans.__('latest version');
  const result = await showDialog({
    title: trans.__('Open from the EVN archive'),
    body: trans.__(
      'Open a copy of %1 (%2, %3) from the EVN archive?',
      title,
      target.experiment,
      version
    ),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Open') })
    ]
  });
  return result.button.accept;
}

export interface IOpenFromLinkOptions {
  /** The value of `evn-open`. */
  value: string;
  trans: TranslationBundle;
  /** Ask the reader (`confirmOpen`). */
  ask: (target: IOpenTarget) => Promise<boolean>;
  /** Open a copy (`evn-submit:open-copy`, which also opens the saved file). */
  openCopy: (args: ReadonlyPartialJSONObject) => Promise<unknown>;
  /** Say why a link was refused. */
  refuse: (message: string) => void;
}

/** What became of a link: refused, cancelled by the reader, or opened. */
export type OpenOutcome = 'refused' | 'cancelled' | 'opened';

/** Check the link, ask, and only on Open make the copy. */
export async function openFromLink(
  options: IOpenFromLinkOptions
): Promise<OpenOutcome> {
  const { trans } = options;
  let target: IOpenTarget;
  try {
    target = parseOpenTarget(options.value);
  } catch (error) {
    options.refuse(
      trans.__(
        'This link to the EVN archive is not valid: %1',
        (error as Error).message
      )
    );
    return 'refused';
  }
  if (!(await options.ask(target))) {
    return 'cancelled';
  }
  await options.openCopy({
    experiment: target.experiment,
    owner: target.owner,
    name: target.name,
    ...(target.version !== undefined ? { version: target.version } : {})
  });
  return 'opened';
}

/**
 * Reads `evn-open` from the page URL at start, takes it out of the address
 * bar (a reload must not ask again), and once the app is restored asks the
 * reader before opening a copy. Also follows the `portalUrl` setting.
 */
export const openLinkPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-evn-submit:open-link',
  description: 'Open a copy of an archived notebook from a link.',
  autoStart: true,
  optional: [ITranslator, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_evn_submit');
    settingRegistry
      ?.load('jupyterlab-evn-submit:plugin')
      .then(settings => {
        const apply = () =>
          setPortalUrl((settings.get('portalUrl').composite as string) ?? '');
        apply();
        settings.changed.connect(apply);
      })
      .catch(reason =>
        console.error('jupyterlab-evn-submit: settings failed to load.', reason)
      );

    const value = openParam(window.location.href);
    if (value === null) {
      return;
    }
    const api = new EvnApi(requestAPI);
    window.history.replaceState(
      window.history.state,
      '',
      withoutOpenParam(window.location.href)
    );
    void app.restored.then(() =>
      openFromLink({
        value,
        trans,
        ask: async target =>
          confirmOpen(target, trans, await findTitle(api, target)),
        openCopy: args => app.commands.execute(CommandIDs.openCopy, args),
        refuse: message => Notification.error(message, { autoClose: false })
      })
    );
  }
};
