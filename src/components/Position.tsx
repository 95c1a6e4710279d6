import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

/** A position on the sky and a radius, as typed (degrees, ICRS). */
export interface ICone {
  ra: string;
  dec: string;
  radius: string;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$/;

/**
 * What is wrong with a cone, or '' when it can be sent: all three or none,
 * 0 ≤ RA < 360, −90 ≤ Dec ≤ 90, 0 < radius ≤ 10 (docs/catalogue.md; the
 * server extension and the service check the same bounds).
 */
export function coneProblem(cone: ICone, trans: TranslationBundle): string {
  const values = [cone.ra, cone.dec, cone.radius].map(v => (v ?? '').trim());
  const given = values.filter(v => v !== '').length;
  if (given === 0) {
    return '';
  }
  if (given < 3) {
    return trans.__(
      'A position needs RA, Dec and a radius (degrees): fill in all three, or none.'
    );
  }
  const [ra, dec, radius] = values.map(v => (NUMBER.test(v) ? Number(v) : NaN));
  if (!(ra >= 0 && ra < 360)) {
    return trans.__('RA must be a number of degrees from 0 to below 360.');
  }
  if (!(dec >= -90 && dec <= 90)) {
    return trans.__('Dec must be a number of degrees from −90 to 90.');
  }
  if (!(radius > 0 && radius <= 10)) {
    return trans.__(
      'The radius must be a number of degrees above 0, at most 10.'
    );
  }
  return '';
}

/**
 * RA, Dec and radius in one group, with the message of a cone that cannot be
 * sent under them (each field points at it while it is shown).
 */
export function PositionFields(props: {
  trans: TranslationBundle;
  cone: ICone;
  problem: string;
  onChange: (cone: ICone) => void;
}): JSX.Element {
  const { trans, cone, problem } = props;
  const id = React.useId();
  const field = (name: keyof ICone, label: string, placeholder: string) => (
    <div className="jp-evn-submit-search-field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <input
        id={`${id}-${name}`}
        className="jp-mod-styled"
        type="text"
        inputMode="decimal"
        value={cone[name]}
        placeholder={placeholder}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
        onChange={event =>
          props.onChange({ ...cone, [name]: event.target.value })
        }
      />
    </div>
  );
  return (
    <fieldset className="jp-evn-submit-position">
      <legend>{trans.__('Position (degrees)')}</legend>
      <div className="jp-evn-submit-position-fields">
        {field('ra', trans.__('RA'), '250.7')}
        {field('dec', trans.__('Dec'), '39.8')}
        {field('radius', trans.__('Radius'), '0.5')}
      </div>
      {problem && (
        <p id={`${id}-problem`} className="jp-evn-submit-error" role="alert">
          {problem}
        </p>
      )}
    </fieldset>
  );
}
