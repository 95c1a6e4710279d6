import { IMoreState } from './tokens';

/** One page of a list: its items and where the next page starts. */
export interface IPage<T> {
  items: T[];
  /** `null` on the last page. */
  next: string | null;
}

/** Fetch the page that starts at `cursor` (`null`: the first page). */
export type PageFetch<T> = (cursor: string | null) => Promise<IPage<T>>;

/**
 * A list the server extension gives a page at a time: the items shown so
 * far, where the next page starts, whether it is being fetched, and the last
 * error. A new `load` drops the answers of an older one still in flight, so
 * a slow page of the previous experiment never lands in the next one's list.
 */
export class PagedList<T> {
  /** `changed` is called after every change of the state. */
  constructor(private readonly _changed: () => void) {}

  /** The items so far; `null` while the first page loads or after it failed. */
  get items(): T[] | null {
    return this._items;
  }

  /** Why the last page (first or further) failed, else ''. */
  get error(): string {
    return this._error;
  }

  get more(): IMoreState {
    return { cursor: this._cursor, loading: this._loadingMore };
  }

  /**
   * Start again with the first page of `fetch`. Its failure is
   * `onError(error)`: the items to show instead (`null`: none) and the
   * message (`''`: nothing went wrong, e.g. an unknown experiment is empty).
   */
  async load(
    fetch: PageFetch<T>,
    onError: (error: unknown) => { items: T[] | null; error: string }
  ): Promise<void> {
    const generation = ++this._generation;
    this._fetch = fetch;
    this._set(null, null, '');
    try {
      const page = await fetch(null);
      if (generation === this._generation) {
        this._set(page.items, page.next, '');
      }
    } catch (error) {
      if (generation === this._generation) {
        const failed = onError(error);
        this._set(failed.items, null, failed.error);
      }
    }
  }

  /** Append the next page; a failure keeps what is shown and sets `error`. */
  async loadMore(): Promise<void> {
    const fetch = this._fetch;
    const cursor = this._cursor;
    if (!fetch || cursor === null || this._loadingMore) {
      return;
    }
    const generation = this._generation;
    this._loadingMore = true;
    this._error = '';
    this._changed();
    try {
      const page = await fetch(cursor);
      if (generation === this._generation) {
        this._set([...(this._items ?? []), ...page.items], page.next, '');
      }
    } catch (error) {
      if (generation === this._generation) {
        this._set(this._items, cursor, messageOf(error));
      }
    }
  }

  /** Forget the list (e.g. after a logout). */
  clear(): void {
    this._generation++;
    this._fetch = null;
    this._set(null, null, '');
  }

  private _set(items: T[] | null, cursor: string | null, error: string) {
    this._items = items;
    this._cursor = cursor;
    this._error = error;
    this._loadingMore = false;
    this._changed();
  }

  private _items: T[] | null = null;
  private _cursor: string | null = null;
  private _error = '';
  private _loadingMore = false;
  private _fetch: PageFetch<T> | null = null;
  private _generation = 0;
}

/** The message of an error, as the researcher should read it. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
