import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { IDeviceStart, IStatus, IUser, LoginState } from '../tokens';

export interface ILoginStatusProps {
  status: IStatus | null;
  statusError: string;
  login: LoginState;
  trans: TranslationBundle;
  onLogin: () => void;
  onDeviceLogin: () => void;
  onCancel: () => void;
  onLogout: () => void;
}

/**
 * Who is logged in, and the buttons to log in (popup or code) or out.
 */
export function LoginStatus(props: ILoginStatusProps): JSX.Element {
  const { status, statusError } = props;
  const user = status?.logged_in ? status.user : null;
  return (
    <div className="jp-evn-submit-login">
      {statusError && (
        <p className="jp-evn-submit-error" role="alert">
          {statusError}
        </p>
      )}
      {user ? <LoggedIn {...props} user={user} /> : <LoggedOut {...props} />}
      <ServerNotice {...props} />
      <LoginProgress {...props} />
    </div>
  );
}

function LoggedIn(props: ILoginStatusProps & { user: IUser }): JSX.Element {
  const { user, trans } = props;
  return (
    <div className="jp-evn-submit-user">
      <div>
        <span className="jp-evn-submit-user-name">{user.name}</span>{' '}
        <span className="jp-evn-submit-user-username">({user.username})</span>
      </div>
      <button
        className="jp-mod-styled jp-evn-submit-button jp-evn-submit-logout"
        onClick={props.onLogout}
      >
        {trans.__('Log out')}
      </button>
    </div>
  );
}

/** The log-in buttons, below why the researcher was logged out (if known). */
function LoggedOut(props: ILoginStatusProps): JSX.Element {
  const { status, login, trans } = props;
  return (
    <div className="jp-evn-submit-anonymous">
      {status?.message && (
        <p className="jp-evn-submit-notice jp-evn-submit-logged-out">
          {status.message}
        </p>
      )}
      <p>{trans.__('Log in to submit notebooks to the EVN archive.')}</p>
      <div className="jp-evn-submit-actions">
        <button
          className="jp-mod-styled jp-mod-accept jp-evn-submit-button jp-evn-submit-login-button"
          onClick={props.onLogin}
          disabled={login.kind === 'popup'}
        >
          {trans.__('Log in')}
        </button>
        <button
          className="jp-mod-styled jp-evn-submit-link-button jp-evn-submit-device-button"
          onClick={props.onDeviceLogin}
        >
          {trans.__('Use a code instead')}
        </button>
      </div>
    </div>
  );
}

/** An unconfigured server extension, or a notebook service that is down. */
function ServerNotice(props: ILoginStatusProps): JSX.Element | null {
  const { status, trans } = props;
  if (status?.configured === false) {
    return (
      <p className="jp-evn-submit-warning">
        {trans.__(
          'The EVN archive is not configured on this Jupyter server: ask its operator to set the login issuer and the notebook service.'
        )}
      </p>
    );
  }
  if (status?.service && !status.service.reachable) {
    return (
      <p className="jp-evn-submit-warning">
        {trans.__('The EVN notebook service cannot be reached just now.')}
      </p>
    );
  }
  return null;
}

function LoginProgress(props: ILoginStatusProps): JSX.Element | null {
  const { login, trans } = props;
  switch (login.kind) {
    case 'popup':
      return (
        <div className="jp-evn-submit-notice" role="status">
          {trans.__('Log in in the window that opened.')}{' '}
          <button
            className="jp-mod-styled jp-evn-submit-link-button"
            onClick={props.onCancel}
          >
            {trans.__('Cancel')}
          </button>
        </div>
      );
    case 'blocked':
      return (
        <div className="jp-evn-submit-error jp-evn-submit-blocked" role="alert">
          <p>
            {trans.__(
              'The browser blocked the login window. Allow popups for this site and try again, or log in with a code on any device.'
            )}
          </p>
          <button
            className="jp-mod-styled jp-evn-submit-button"
            onClick={props.onDeviceLogin}
          >
            {trans.__('Log in with a code')}
          </button>
        </div>
      );
    case 'device':
      return <DeviceCode {...props} device={login.device} />;
    case 'error':
      return (
        <p className="jp-evn-submit-error" role="alert">
          {login.message}
        </p>
      );
    default:
      return null;
  }
}

function DeviceCode(
  props: ILoginStatusProps & { device: IDeviceStart }
): JSX.Element {
  const { device, trans } = props;
  const url = device.verification_uri_complete || device.verification_uri;
  return (
    <div className="jp-evn-submit-device" role="status">
      <p>
        {trans.__('Open this address and enter the code:')}{' '}
        <a href={url} target="_blank" rel="noopener noreferrer">
          {device.verification_uri}
        </a>
      </p>
      <p className="jp-evn-submit-device-code">{device.user_code}</p>
      <p>{trans.__('Waiting for the login…')}</p>
      <button
        className="jp-mod-styled jp-evn-submit-link-button"
        onClick={props.onCancel}
      >
        {trans.__('Cancel')}
      </button>
    </div>
  );
}
