import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { IMoreState } from '../tokens';

export interface IMoreProps {
  more: IMoreState;
  trans: TranslationBundle;
  onMore: () => void;
}

/**
 * "More" below a list the server gives a page at a time; nothing when the
 * whole list is shown. While the next page loads it says so and ignores
 * clicks, but stays enabled: a disabled button would drop the keyboard
 * focus, which should stay here, below the items just added.
 */
export function More(props: IMoreProps): JSX.Element | null {
  const { more, trans } = props;
  if (more.cursor === null) {
    return null;
  }
  return (
    <button
      type="button"
      className="jp-mod-styled jp-evn-submit-link-button jp-evn-submit-more"
      aria-busy={more.loading}
      aria-disabled={more.loading}
      onClick={() => {
        if (!more.loading) {
          props.onMore();
        }
      }}
    >
      {more.loading ? trans.__('Loading more…') : trans.__('More')}
    </button>
  );
}
