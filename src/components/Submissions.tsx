import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { INotebookSummary } from '../tokens';

export interface ISubmissionsProps {
  submissions: INotebookSummary[] | null;
  error: string;
  loggedIn: boolean;
  trans: TranslationBundle;
  onRefresh: () => void;
}

/**
 * The researcher's own archived notebooks, with links and versions.
 */
export function Submissions(props: ISubmissionsProps): JSX.Element {
  const { submissions, trans } = props;
  let body: JSX.Element;
  if (!props.loggedIn) {
    body = <p>{trans.__('Log in to see your submissions.')}</p>;
  } else if (props.error) {
    body = (
      <p className="jp-evn-submit-error" role="alert">
        {props.error}
      </p>
    );
  } else if (submissions === null) {
    body = <p>{trans.__('Loading…')}</p>;
  } else if (submissions.length === 0) {
    body = <p>{trans.__('You have not submitted any notebook yet.')}</p>;
  } else {
    body = (
      <ul className="jp-evn-submit-list">
        {submissions.map(item => (
          <li
            key={item.folder + item.experiment}
            className="jp-evn-submit-item"
          >
            <a href={item.permalink} target="_blank" rel="noopener noreferrer">
              {item.title || item.name}
            </a>
            <div className="jp-evn-submit-meta">
              {trans.__(
                '%1 · version %2 · %3',
                item.experiment,
                item.version,
                item.updated ? item.updated.slice(0, 10) : ''
              )}
            </div>
          </li>
        ))}
      </ul>
    );
  }
  return (
    <div className="jp-evn-submit-submissions">
      {body}
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
