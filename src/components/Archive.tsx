import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { IMoreState, INotebookSummary, IVersion } from '../tokens';
import { More } from './More';

export interface IArchiveProps {
  experiment: string;
  /** The notebooks shown so far; `null` while the first page loads. */
  notebooks: INotebookSummary[] | null;
  error: string;
  more: IMoreState;
  trans: TranslationBundle;
  onBrowse: (experiment: string) => void;
  onMore: () => void;
  onOpenCopy: (item: INotebookSummary, version?: number) => void;
  loadVersions: (item: INotebookSummary) => Promise<IVersion[]>;
}

/**
 * Browse the archive: an experiment code, its notebooks a page at a time
 * ("More" adds the next), "Open a copy".
 */
export function Archive(props: IArchiveProps): JSX.Element {
  const { trans, notebooks } = props;
  const [code, setCode] = React.useState(props.experiment);
  const onSubmit = (event: React.FormEvent) => {
    event.preventDefault();
    props.onBrowse(code);
  };
  return (
    <div className="jp-evn-submit-archive">
      <form className="jp-evn-submit-browse" onSubmit={onSubmit}>
        <label>
          <span>{trans.__('Experiment code')}</span>
          <input
            className="jp-mod-styled jp-evn-submit-browse-input"
            value={code}
            placeholder="EG078B"
            onChange={event => setCode(event.target.value)}
          />
        </label>
        <button type="submit" className="jp-mod-styled jp-evn-submit-button">
          {trans.__('Browse')}
        </button>
      </form>
      {props.experiment && notebooks === null && !props.error && (
        <p>{trans.__('Loading…')}</p>
      )}
      {notebooks !== null && notebooks.length === 0 && (
        <p>
          {trans.__('No notebooks are archived for %1 yet.', props.experiment)}
        </p>
      )}
      {notebooks !== null && notebooks.length > 0 && (
        <ul className="jp-evn-submit-list">
          {notebooks.map(item => (
            <ArchiveItem key={item.folder} item={item} {...props} />
          ))}
        </ul>
      )}
      {props.error && (
        <p className="jp-evn-submit-error" role="alert">
          {props.error}
        </p>
      )}
      {notebooks !== null && notebooks.length > 0 && (
        <More more={props.more} trans={trans} onMore={props.onMore} />
      )}
    </div>
  );
}

function ArchiveItem(
  props: IArchiveProps & { item: INotebookSummary }
): JSX.Element {
  const { item, trans } = props;
  const [versions, setVersions] = React.useState<IVersion[] | null>(null);
  const [version, setVersion] = React.useState<number>(item.version);
  const [error, setError] = React.useState('');
  const showVersions = async () => {
    try {
      setVersions(await props.loadVersions(item));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const authors = (item.authors ?? []).map(a => a.name).join(', ');
  return (
    <li className="jp-evn-submit-item">
      <a href={item.permalink} target="_blank" rel="noopener noreferrer">
        {item.title || item.name}
      </a>
      <div className="jp-evn-submit-meta">{authors}</div>
      <div className="jp-evn-submit-meta">
        {item.legacy
          ? trans.__('from the earlier portal · version %1', item.version)
          : trans.__('by %1 · version %2', item.owner, item.version)}
      </div>
      <div className="jp-evn-submit-actions">
        {versions === null ? (
          <button
            className="jp-mod-styled jp-evn-submit-link-button"
            onClick={showVersions}
          >
            {trans.__('Versions')}
          </button>
        ) : (
          <select
            className="jp-mod-styled jp-evn-submit-version"
            aria-label={trans.__('Version')}
            value={version}
            onChange={event => setVersion(Number(event.target.value))}
          >
            {versions.map(v => (
              <option key={v.version} value={v.version}>
                {trans.__('Version %1', v.version)}
                {v.date ? ` (${v.date.slice(0, 10)})` : ''}
              </option>
            ))}
          </select>
        )}
        <button
          className="jp-mod-styled jp-evn-submit-button jp-evn-submit-open-copy"
          onClick={() =>
            props.onOpenCopy(item, versions === null ? undefined : version)
          }
        >
          {trans.__('Open a copy')}
        </button>
      </div>
      {error && <p className="jp-evn-submit-error">{error}</p>}
    </li>
  );
}
