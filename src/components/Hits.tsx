import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { INotebookSummary, IPageAnswer, ISearchHit, IVersion } from '../tokens';
import { Cite } from './Cite';
import { ObservationMeta } from './Observation';
import { Snippet } from './Snippet';
import { Versions } from './Versions';

/** What every hit can do; the panel wires these to commands. */
export interface IHitActions {
  trans: TranslationBundle;
  onOpenCopy: (item: INotebookSummary, version?: number) => void;
  /** A page of the notebook's versions (`cursor`: where it starts). */
  loadVersions: (
    item: INotebookSummary,
    cursor: string | null
  ) => Promise<IPageAnswer & { versions: IVersion[] }>;
  /** Whether two versions can be compared (the compare command exists). */
  canCompare: () => boolean;
  onCompare: (item: INotebookSummary, base: number, remote: number) => void;
  /** Put a citation on the clipboard. */
  onCopy: (text: string) => void;
}

export interface IHitListProps extends IHitActions {
  /** Search hits (with a snippet) or plain summaries (My submissions). */
  items: ReadonlyArray<INotebookSummary & Partial<Pick<ISearchHit, 'snippet'>>>;
}

/** Notebooks of the archive, as the search and My submissions show them. */
export function HitList(props: IHitListProps): JSX.Element {
  return (
    <ul className="jp-evn-submit-list">
      {props.items.map(item => (
        <Hit key={`${item.experiment}/${item.folder}`} {...props} item={item} />
      ))}
    </ul>
  );
}

type Open = 'none' | 'versions' | 'cite';

function Hit(
  props: IHitActions & { item: IHitListProps['items'][number] }
): JSX.Element {
  const { item, trans } = props;
  const id = React.useId();
  const [open, setOpen] = React.useState<Open>('none');
  const citeButton = React.useRef<HTMLButtonElement>(null);
  const toggle = (what: Open) => setOpen(open === what ? 'none' : what);
  const authors = (item.authors ?? []).map(a => a.name).join(', ');
  const date = item.updated ? item.updated.slice(0, 10) : '';
  return (
    <li className="jp-evn-submit-item jp-evn-submit-hit">
      <a
        id={`${id}-title`}
        className="jp-evn-submit-hit-title"
        href={item.permalink}
        target="_blank"
        rel="noopener noreferrer"
      >
        {item.title || item.name}
      </a>
      {authors && <div className="jp-evn-submit-meta">{authors}</div>}
      <div className="jp-evn-submit-meta">
        {trans.__('%1 · version %2 · %3', item.experiment, item.version, date)}
      </div>
      <div className="jp-evn-submit-meta">
        {item.legacy
          ? trans.__('Licence %1 · from the earlier portal', item.license)
          : trans.__('Licence %1', item.license)}
      </div>
      <ObservationMeta
        observation={item.observation}
        titleId={`${id}-title`}
        trans={trans}
      />
      {item.snippet && <Snippet html={item.snippet} />}
      <div className="jp-evn-submit-actions">
        <button
          type="button"
          className="jp-mod-styled jp-evn-submit-button jp-evn-submit-open-copy"
          aria-describedby={`${id}-title`}
          onClick={() => props.onOpenCopy(item)}
        >
          {trans.__('Open a copy')}
        </button>
        <a
          className="jp-evn-submit-view"
          href={item.permalink}
          target="_blank"
          rel="noopener noreferrer"
          aria-describedby={`${id}-title`}
        >
          {trans.__('View in the archive')}
        </a>
        <button
          type="button"
          className="jp-mod-styled jp-evn-submit-link-button jp-evn-submit-versions-button"
          aria-expanded={open === 'versions'}
          aria-describedby={`${id}-title`}
          onClick={() => toggle('versions')}
        >
          {trans.__('Versions')}
        </button>
        <button
          ref={citeButton}
          type="button"
          className="jp-mod-styled jp-evn-submit-link-button jp-evn-submit-cite-button"
          aria-expanded={open === 'cite'}
          aria-describedby={`${id}-title`}
          onClick={() => toggle('cite')}
        >
          {trans.__('Cite')}
        </button>
      </div>
      {open === 'versions' && (
        <Versions
          item={item}
          trans={trans}
          loadVersions={props.loadVersions}
          onOpenCopy={props.onOpenCopy}
          onCompare={props.canCompare() ? props.onCompare : undefined}
        />
      )}
      {open === 'cite' && (
        <Cite
          item={item}
          trans={trans}
          onCopy={props.onCopy}
          onClose={() => {
            setOpen('none');
            citeButton.current?.focus();
          }}
        />
      )}
    </li>
  );
}
