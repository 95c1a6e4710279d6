import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

/**
 * The EVN archive plugin (placeholder until the sidebar lands).
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-evn-submit:plugin',
  description: 'Submit notebooks to the EVN archive.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    console.debug('jupyterlab-evn-submit is activated');
  }
};

export default plugin;
