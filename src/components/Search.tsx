import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { LICENSES } from '../rules';
import { IArchiveSearch, ISearchParams } from '../tokens';
import { HitList, IHitActions } from './Hits';
import { More } from './More';
import { coneProblem, ICone, PositionFields } from './Position';

export interface ISearchProps extends IHitActions {
  search: IArchiveSearch;
  onSearch: (query: ISearchParams) => void;
  onMore: () => void;
}

type Fields = Required<
  Pick<
    ISearchParams,
    'q' | 'experiment' | 'author' | 'keyword' | 'license' | 'target'
  >
> &
  ICone;

function fieldsOf(query: ISearchParams | null): Fields {
  return {
    q: query?.q ?? '',
    experiment: query?.experiment ?? '',
    author: query?.author ?? '',
    keyword: query?.keyword ?? '',
    license: query?.license ?? '',
    target: query?.target ?? '',
    ra: query?.ra ?? '',
    dec: query?.dec ?? '',
    radius: query?.radius ?? ''
  };
}

/**
 * Search the archive: words and filters (Enter searches), then the hits a
 * page at a time ("More" adds the next), each with its actions.
 */
export function Search(props: ISearchProps): JSX.Element {
  const { trans, search } = props;
  const [fields, setFields] = React.useState(() => fieldsOf(search.query));
  // Shown once Search was pressed with a cone that cannot be sent.
  const [problem, setProblem] = React.useState('');
  // A search started elsewhere (evn-submit:browse) shows its filters here.
  React.useEffect(() => setFields(fieldsOf(search.query)), [search.query]);
  const onSearch = () => {
    const wrong = coneProblem(fields, trans);
    setProblem(wrong);
    if (!wrong) {
      props.onSearch(withoutEmpty(fields));
    }
  };
  return (
    <div className="jp-evn-submit-archive jp-evn-submit-search">
      <SearchForm
        trans={trans}
        fields={fields}
        problem={problem}
        onChange={setFields}
        onSearch={onSearch}
      />
      <SearchResults {...props} />
    </div>
  );
}

/** The fields that hold something (the search sends no empty filter). */
function withoutEmpty(fields: Fields): ISearchParams {
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value.trim() !== '') {
      query[name] = value;
    }
  }
  return query;
}

function SearchForm(props: {
  trans: TranslationBundle;
  fields: Fields;
  problem: string;
  onChange: (fields: Fields) => void;
  onSearch: () => void;
}): JSX.Element {
  const { trans, fields } = props;
  const id = React.useId();
  const input = (
    name: Exclude<keyof Fields, 'license'>,
    label: string,
    placeholder = ''
  ) => (
    <div className="jp-evn-submit-search-field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <input
        id={`${id}-${name}`}
        className={
          name === 'experiment'
            ? 'jp-mod-styled jp-evn-submit-browse-input'
            : 'jp-mod-styled'
        }
        type={name === 'q' ? 'search' : 'text'}
        value={fields[name]}
        placeholder={placeholder}
        onChange={event =>
          props.onChange({ ...fields, [name]: event.target.value })
        }
      />
    </div>
  );
  return (
    <form
      className="jp-evn-submit-search-form"
      role="search"
      onSubmit={event => {
        event.preventDefault();
        props.onSearch();
      }}
    >
      {input('q', trans.__('Words'), trans.__('fringe fitting'))}
      {input('experiment', trans.__('Experiment'), 'EG078B')}
      {input('author', trans.__('Author'))}
      {input('keyword', trans.__('Keyword'))}
      {input('target', trans.__('Source'), '3C 345')}
      <PositionFields
        trans={trans}
        cone={fields}
        problem={props.problem}
        onChange={cone => props.onChange({ ...fields, ...cone })}
      />
      <div className="jp-evn-submit-search-field">
        <label htmlFor={`${id}-license`}>{trans.__('Licence')}</label>
        <select
          id={`${id}-license`}
          className="jp-mod-styled"
          value={fields.license}
          onChange={event =>
            props.onChange({ ...fields, license: event.target.value })
          }
        >
          <option value="">{trans.__('Any licence')}</option>
          {LICENSES.map(license => (
            <option key={license} value={license}>
              {license}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="jp-mod-styled jp-evn-submit-button">
        {trans.__('Search')}
      </button>
    </form>
  );
}

/** Not searched yet, searching, the error, no hits, or the hits and More. */
function SearchResults(props: ISearchProps): JSX.Element {
  const { trans, search } = props;
  const { hits, error } = search;
  let body: JSX.Element | null = null;
  if (search.query === null) {
    body = (
      <p className="jp-evn-submit-search-hint">
        {trans.__(
          'Search titles, descriptions, keywords, authors and the notebooks’ text, or only filter. An empty search lists every archived notebook, newest first.'
        )}
      </p>
    );
  } else if (hits === null && !error) {
    body = <p role="status">{trans.__('Searching…')}</p>;
  } else if (hits !== null && hits.length === 0 && !error) {
    body = (
      <p className="jp-evn-submit-no-hits" role="status">
        {trans.__(
          'No archived notebook matches this search. Try fewer or other words, or remove a filter.'
        )}
      </p>
    );
  } else if (hits !== null && hits.length > 0) {
    body = <HitList {...props} items={hits} />;
  }
  return (
    <div className="jp-evn-submit-results">
      {body}
      {error && (
        <p className="jp-evn-submit-error" role="alert">
          {hits === null
            ? trans.__('The search failed: %1', error)
            : trans.__('The next page failed: %1', error)}
        </p>
      )}
      {hits !== null && hits.length > 0 && (
        <More more={search.more} trans={trans} onMore={props.onMore} />
      )}
    </div>
  );
}
