import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { IMoreState, INotebookSummary, IVersion } from '../tokens';
import type { IHitActions } from './Hits';
import { More } from './More';

export interface IVersionsProps {
  item: INotebookSummary;
  trans: TranslationBundle;
  loadVersions: IHitActions['loadVersions'];
  onOpenCopy: (item: INotebookSummary, version?: number) => void;
  /** Compare two versions; absent when no compare command is installed. */
  onCompare?: (item: INotebookSummary, base: number, remote: number) => void;
}

interface IVersionList {
  /** The versions so far; `null` while the first page loads. */
  versions: IVersion[] | null;
  more: IMoreState;
  error: string;
}

/** A notebook's versions, a page at a time. */
function useVersions(props: IVersionsProps): [IVersionList, () => void] {
  const { item, loadVersions } = props;
  const [list, setList] = React.useState<IVersionList>({
    versions: null,
    more: { cursor: null, loading: false },
    error: ''
  });
  const live = React.useRef(true);
  React.useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);
  const load = (shown: IVersion[], cursor: string | null) => {
    loadVersions(item, cursor).then(
      answer =>
        live.current &&
        setList({
          versions: [...shown, ...answer.versions],
          more: { cursor: answer.next_cursor, loading: false },
          error: ''
        }),
      reason =>
        live.current &&
        setList({
          versions: cursor === null ? null : shown,
          more: { cursor, loading: false },
          error: reason instanceof Error ? reason.message : String(reason)
        })
    );
  };
  React.useEffect(
    () => load([], null),
    [item.experiment, item.owner, item.name]
  );
  const loadMore = () => {
    if (list.more.cursor === null || list.more.loading) {
      return;
    }
    setList({ ...list, more: { ...list.more, loading: true }, error: '' });
    load(list.versions ?? [], list.more.cursor);
  };
  return [list, loadMore];
}

/**
 * A notebook's versions, each with its permalink and "Open this version",
 * a page at a time, and (with two or more) a choice of two to compare.
 */
export function Versions(props: IVersionsProps): JSX.Element {
  const { item, trans } = props;
  const [{ versions, more, error }, loadMore] = useVersions(props);
  const failed = error && (
    <p className="jp-evn-submit-error" role="alert">
      {trans.__('The versions could not be listed: %1', error)}
    </p>
  );
  if (versions === null) {
    return failed || <p role="status">{trans.__('Loading the versions…')}</p>;
  }
  if (versions.length === 0) {
    return <p>{trans.__('No versions are listed for this notebook.')}</p>;
  }
  return (
    <div className="jp-evn-submit-versions">
      <ul className="jp-evn-submit-list">
        {versions.map(v => (
          <li key={v.version} className="jp-evn-submit-version-item">
            <span>
              {trans.__('Version %1', v.version)}
              {v.date ? ` · ${v.date.slice(0, 10)}` : ''}
              {v.message ? ` · ${v.message}` : ''}
            </span>
            <span className="jp-evn-submit-actions">
              <a href={v.permalink} target="_blank" rel="noopener noreferrer">
                {trans.__('View version %1', v.version)}
              </a>
              <button
                type="button"
                className="jp-mod-styled jp-evn-submit-link-button"
                onClick={() => props.onOpenCopy(item, v.version)}
              >
                {trans.__('Open version %1', v.version)}
              </button>
            </span>
          </li>
        ))}
      </ul>
      {failed}
      <More more={more} trans={trans} onMore={loadMore} />
      {props.onCompare && versions.length > 1 && (
        <Compare {...props} versions={versions} onCompare={props.onCompare} />
      )}
    </div>
  );
}

/** Two version pickers (older first) and Compare. */
function Compare(
  props: IVersionsProps & {
    versions: IVersion[];
    onCompare: NonNullable<IVersionsProps['onCompare']>;
  }
): JSX.Element {
  const { trans, versions, item } = props;
  const id = React.useId();
  const numbers = versions.map(v => v.version).sort((a, b) => a - b);
  const [base, setBase] = React.useState(numbers[numbers.length - 2]);
  const [remote, setRemote] = React.useState(numbers[numbers.length - 1]);
  const picker = (
    name: string,
    label: string,
    value: number,
    set: (n: number) => void
  ) => (
    <span className="jp-evn-submit-version-compare-field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <select
        id={`${id}-${name}`}
        className="jp-mod-styled"
        value={value}
        onChange={event => set(Number(event.target.value))}
      >
        {numbers.map(n => (
          <option key={n} value={n}>
            {trans.__('Version %1', n)}
          </option>
        ))}
      </select>
    </span>
  );
  return (
    <form
      className="jp-evn-submit-version-compare jp-evn-submit-actions"
      onSubmit={event => {
        event.preventDefault();
        props.onCompare(item, base, remote);
      }}
    >
      {picker('base', trans.__('Compare'), base, setBase)}
      {picker('remote', trans.__('with'), remote, setRemote)}
      <button
        type="submit"
        className="jp-mod-styled jp-evn-submit-button"
        disabled={base === remote}
      >
        {trans.__('Compare versions')}
      </button>
    </form>
  );
}
