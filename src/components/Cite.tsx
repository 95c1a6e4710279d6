import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { bibtex, plainCitation } from '../citation';
import { openLink } from '../openlink';
import { INotebookSummary } from '../tokens';

export interface ICiteProps {
  item: INotebookSummary;
  trans: TranslationBundle;
  /** Put `text` on the clipboard (JupyterLab's `Clipboard.copyToSystem`). */
  onCopy: (text: string) => void;
  onClose: () => void;
  /** The portal links go through; without it the `portalUrl` setting. */
  portalUrl?: string;
}

/**
 * How to cite an archived notebook: BibTeX and plain text, each with a Copy
 * button. A small non-modal dialog below the hit; Escape or Close ends it.
 */
export function Cite(props: ICiteProps): JSX.Element {
  const { item, trans } = props;
  const id = React.useId();
  const [copied, setCopied] = React.useState('');
  const node = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => node.current?.focus(), []);
  const texts = [
    { name: trans.__('BibTeX'), text: bibtex(item), block: true },
    { name: trans.__('Plain text'), text: plainCitation(item), block: false }
  ];
  const link = openLink(item, props.portalUrl);
  const linkName = trans.__('Open a copy in JupyterLab');
  const copy = (name: string, text: string) => {
    props.onCopy(text);
    setCopied(trans.__('%1 copied to the clipboard.', name));
  };
  return (
    <div
      ref={node}
      className="jp-evn-submit-cite"
      role="dialog"
      aria-labelledby={`${id}-title`}
      tabIndex={-1}
      onKeyDown={event => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          props.onClose();
        }
      }}
    >
      <p id={`${id}-title`} className="jp-evn-submit-cite-title">
        {trans.__('Cite “%1”', item.title || item.name)}
      </p>
      {texts.map(({ name, text, block }, i) => (
        <div key={name} className="jp-evn-submit-cite-format">
          <span id={`${id}-${i}`} className="jp-evn-submit-cite-name">
            {name}
          </span>
          {block ? (
            <pre aria-labelledby={`${id}-${i}`}>{text}</pre>
          ) : (
            <p aria-labelledby={`${id}-${i}`}>{text}</p>
          )}
          <button
            type="button"
            className="jp-mod-styled jp-evn-submit-button"
            onClick={() => copy(name, text)}
          >
            {trans.__('Copy %1', name)}
          </button>
        </div>
      ))}
      <div className="jp-evn-submit-cite-format">
        <a
          className="jp-evn-submit-cite-name"
          href={link}
          target="_blank"
          rel="noopener noreferrer"
        >
          {linkName}
        </a>
        <p>{link}</p>
        <button
          type="button"
          className="jp-mod-styled jp-evn-submit-button"
          onClick={() => copy(trans.__('The link'), link)}
        >
          {trans.__('Copy the link')}
        </button>
      </div>
      <p role="status" className="jp-evn-submit-meta">
        {copied}
      </p>
      <button
        type="button"
        className="jp-mod-styled jp-evn-submit-link-button"
        onClick={props.onClose}
      >
        {trans.__('Close')}
      </button>
    </div>
  );
}
