import { ReactWidget } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { SidePanel, UseSignal } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';
import * as React from 'react';
import { IHitActions } from '../components/Hits';
import { LoginStatus } from '../components/LoginStatus';
import { Submissions } from '../components/Submissions';
import { Search } from '../components/Search';
import { SubmitForm } from '../components/SubmitForm';
import { evnArchiveIcon } from '../icons';
import { IEvnArchiveModel, INotebookSummary } from '../tokens';

export type Section = 'account' | 'submit' | 'submissions' | 'archive';
const SECTIONS: Section[] = ['submit', 'submissions', 'archive'];

export namespace ArchivePanel {
  export interface IOptions {
    model: IEvnArchiveModel;
    translator?: ITranslator;
    onSubmit: () => void;
    onLogin: () => void;
    onOpenCopy: (item: INotebookSummary, version?: number) => void;
    /** Whether the compare command is installed (asked at each render). */
    canCompare: () => boolean;
    onCompare: (item: INotebookSummary, base: number, remote: number) => void;
    /** Put text on the clipboard. */
    onCopy: (text: string) => void;
  }
}

/**
 * The left sidebar "EVN archive": account, submit form, the researcher's
 * submissions and the archive's search, each a collapsible section.
 */
export class ArchivePanel extends SidePanel {
  constructor(options: ArchivePanel.IOptions) {
    const translator = options.translator ?? nullTranslator;
    super({ translator });
    const trans = translator.load('jupyterlab_evn_submit');
    const { model } = options;
    this.id = 'jp-evn-submit-panel';
    this.addClass('jp-evn-submit-panel');
    this.title.icon = evnArchiveIcon;
    this.title.caption = trans.__('EVN archive');

    const view = (render: () => JSX.Element, label: string, name: Section) => {
      const widget = ReactWidget.create(
        <UseSignal signal={model.changed}>{render}</UseSignal>
      );
      widget.addClass('jp-evn-submit-section');
      widget.addClass(`jp-evn-submit-section-${name}`);
      widget.title.label = label;
      return widget;
    };
    const loggedIn = () => !!model.status?.logged_in;
    const actions: IHitActions = {
      trans,
      onOpenCopy: options.onOpenCopy,
      loadVersions: (item, cursor) => model.versions(item, cursor),
      canCompare: options.canCompare,
      onCompare: options.onCompare,
      onCopy: options.onCopy
    };

    const heading = new Widget();
    heading.addClass('jp-evn-submit-title');
    heading.node.textContent = trans.__('EVN archive');
    this.header.addWidget(heading);
    // The account stays visible above the sections, at its natural height.
    this.header.addWidget(
      view(
        () => (
          <LoginStatus
            status={model.status}
            statusError={model.statusError}
            login={model.login}
            trans={trans}
            onLogin={options.onLogin}
            onDeviceLogin={() => void model.startDeviceLogin()}
            onCancel={() => model.cancelLogin()}
            onLogout={() => void model.logout()}
          />
        ),
        trans.__('Account'),
        'account'
      )
    );
    this.addWidget(
      view(
        () => (
          <SubmitForm
            notebookPath={model.notebookPath}
            loggedIn={loggedIn()}
            form={model.form}
            preview={model.preview}
            previewError={model.previewError}
            submit={model.submit}
            observation={model.observation}
            trans={trans}
            translator={translator}
            onChange={form => model.setForm(form)}
            onSubmit={options.onSubmit}
          />
        ),
        trans.__('Submit notebook'),
        'submit'
      )
    );
    this.addWidget(
      view(
        () => (
          <Submissions
            submissions={model.submissions}
            error={model.submissionsError}
            more={model.submissionsMore}
            loggedIn={loggedIn()}
            {...actions}
            onRefresh={() => void model.loadSubmissions()}
            onMore={() => void model.loadMoreSubmissions()}
          />
        ),
        trans.__('My submissions'),
        'submissions'
      )
    );
    this.addWidget(
      view(
        () => (
          <Search
            search={model.archive}
            {...actions}
            onSearch={query => void model.search(query)}
            onMore={() => void model.searchMore()}
          />
        ),
        trans.__('Archive'),
        'archive'
      )
    );
    // The form needs the room; the lists take what is left.
    (this.content as AccordionPanel).setRelativeSizes([3, 1, 1]);
  }

  /** Expand a section (and keep the others as they are). */
  showSection(section: Section): void {
    const content = this.content as AccordionPanel;
    const index = SECTIONS.indexOf(section);
    if (index < 0) {
      return;
    }
    const widget: Widget | undefined = this.widgets[index];
    if (widget && !widget.isVisible && content.expand) {
      content.expand(index);
    }
  }
}
