import { LabIcon } from '@jupyterlab/ui-components';

/** A radio telescope dish; `jp-icon3` follows the theme's icon colour. */
const dishSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
<g class="jp-icon3" fill="#616161">
<path d="M4.2 3.6a9 9 0 0 0 12.7 12.7zM3.1 5.4A11 11 0 0 0 9 18.7L7 22h8l-2.1-3.1a11 11 0 0 1-9.8-13.5z"/>
<circle cx="17.5" cy="6.5" r="1.6"/>
<path d="M10.6 13.4l5.8-5.8 1.1 1.1-5.8 5.8z"/>
<path d="M19.6 1.6a2.8 2.8 0 0 1 2.8 2.8h-1.3a1.5 1.5 0 0 0-1.5-1.5zM19.6-.9a5.3 5.3 0 0 1 5.3 5.3h-1.3a4 4 0 0 0-4-4z" transform="translate(-1.5 1.5)"/>
</g>
</svg>`;

export const evnArchiveIcon = new LabIcon({
  name: 'jupyterlab-evn-submit:archive',
  svgstr: dishSvg
});
