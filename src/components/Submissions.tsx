import * as React from 'react';
import { IMoreState, INotebookSummary } from '../tokens';
import { HitList, IHitActions } from './Hits';
import { More } from './More';

export interface ISubmissionsProps extends IHitActions {
  /** The submissions shown so far; `null` while the first page loads. */
  submissions: INotebookSummary[] | null;
  error: string;
  more: IMoreState;
  loggedIn: boolean;
  onRefresh: () => void;
  onMore: () => void;
}

/**
 * The researcher's own archived notebooks, shown as the search shows its
 * hits, a page at a time ("More" adds the next).
 */
export function Submissions(props: ISubmissionsProps): JSX.Element {
  const { submissions, trans } = props;
  const shown = submissions !== null && submissions.length > 0;
  let body: JSX.Element | null = null;
  if (!props.loggedIn) {
    body = <p>{trans.__('Log in to see your submissions.')}</p>;
  } else if (submissions === null && !props.error) {
    body = <p>{trans.__('Loading…')}</p>;
  } else if (submissions !== null && !shown && !props.error) {
    body = <p>{trans.__('You have not submitted any notebook yet.')}</p>;
  } else if (shown) {
    body = <HitList {...props} items={submissions} />;
  }
  return (
    <div className="jp-evn-submit-submissions">
      {body}
      {props.loggedIn && props.error && (
        <p className="jp-evn-submit-error" role="alert">
          {props.error}
        </p>
      )}
      {props.loggedIn && shown && (
        <More more={props.more} trans={trans} onMore={props.onMore} />
      )}
      {props.loggedIn && (
        <button
          className="jp-mod-styled jp-evn-submit-link-button"
          onClick={props.onRefresh}
        >
          {trans.__('Refresh')}
        </button>
      )}
    </div>
  );
}
