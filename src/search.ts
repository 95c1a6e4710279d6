import { EvnApi } from './api';
import { messageOf, PagedList } from './paging';
import { asciiUpper, experimentCode } from './rules';
import { IArchiveSearch, ISearchHit, ISearchParams } from './tokens';

/**
 * The archive's search as the panel holds it: the query last sent and its
 * hits a page at a time. A new search drops the pages of the one before.
 */
export class ArchiveSearch {
  /** `changed` is called after every change of the state. */
  constructor(
    private readonly _api: EvnApi,
    changed: () => void
  ) {
    this._list = new PagedList<ISearchHit>(changed);
  }

  get state(): IArchiveSearch {
    const list = this._list;
    return {
      query: this._query,
      hits: list.items,
      error: list.error,
      more: list.more
    };
  }

  /** The first page of `query` (normalised by `searchParams`). */
  search(query: ISearchParams): Promise<void> {
    const params = searchParams(query);
    this._query = params;
    return this._list.load(
      async cursor => {
        if (params.experiment) {
          experimentCode(params.experiment); // say what is wrong before asking
        }
        const answer = await this._api.search({ ...params, cursor });
        return { items: answer.notebooks, next: answer.next_cursor };
      },
      error => ({ items: null, error: messageOf(error) })
    );
  }

  /** Add the next page. */
  more(): Promise<void> {
    return this._list.loadMore();
  }

  private _list: PagedList<ISearchHit>;
  private _query: ISearchParams | null = null;
}

const NAMES: Array<keyof ISearchParams> = [
  'q',
  'experiment',
  'author',
  'orcid',
  'keyword',
  'license',
  'since',
  'until',
  'sort',
  'target',
  'ra',
  'dec',
  'radius'
];

/**
 * A search as it is sent: values trimmed, empty ones left out, the
 * experiment code upper-cased (ASCII only), no page.
 */
export function searchParams(query: ISearchParams): ISearchParams {
  const params: Record<string, string> = {};
  for (const name of NAMES) {
    const value = String(query[name] ?? '').trim();
    if (value) {
      params[name] = name === 'experiment' ? asciiUpper(value) : value;
    }
  }
  return params as ISearchParams;
}
