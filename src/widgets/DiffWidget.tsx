import { ReactWidget } from '@jupyterlab/apputils';
import { INotebookContent } from '@jupyterlab/nbformat';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator } from '@jupyterlab/translation';
import { Panel, Widget } from '@lumino/widgets';
import { IDiffEntry } from 'nbdime/lib/diff/diffentries';
import { NotebookDiffModel } from 'nbdime/lib/diff/model';
import { NotebookDiffWidget } from 'nbdime/lib/diff/widget';
import 'nbdime/lib/styles/variables.css';
import 'nbdime/lib/styles/common.css';
import 'nbdime/lib/styles/diff.css';
import * as React from 'react';
import '../../style/diff.css';

/**
 * nbdime's notebook diff of two archived versions, under a banner that names
 * them. This module (and nbdime with it) is loaded only when a comparison is
 * opened: src/compare.ts imports it with `import()`.
 */

export interface IDiffOptions {
  /** The notebook at the base version, as `GET evn-submit/diff` answers. */
  base: INotebookContent;
  /** nbdime's diff entries from the base version to the remote one. */
  diff: IDiffEntry[];
  /** What the two columns are, e.g. "Version 1" and "Version 2". */
  baseLabel: string;
  remoteLabel: string;
  rendermime: IRenderMimeRegistry;
  translator: ITranslator;
}

/** The two versions, above the columns nbdime shows them in. */
function DiffBanner(props: {
  baseLabel: string;
  remoteLabel: string;
}): JSX.Element {
  return (
    <div className="jp-evn-submit-diff-banner">
      <span className="jp-evn-submit-diff-base">{props.baseLabel}</span>
      <span className="jp-evn-submit-diff-remote">{props.remoteLabel}</span>
    </div>
  );
}

/** The banner and nbdime's widget, its cells rendered. */
export async function createDiffWidget(options: IDiffOptions): Promise<Widget> {
  const panel = new Panel();
  panel.addClass('jp-evn-submit-diff');
  panel.addWidget(
    ReactWidget.create(
      <DiffBanner
        baseLabel={options.baseLabel}
        remoteLabel={options.remoteLabel}
      />
    )
  );
  const diff = new NotebookDiffWidget({
    model: new NotebookDiffModel(options.base, options.diff),
    rendermime: options.rendermime,
    translator: options.translator
  });
  panel.addWidget(diff);
  await diff.init();
  return panel;
}
