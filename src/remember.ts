import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { orcidUrl, RuleError } from './rules';
import { IAuthor, ISubmissionForm, IUser } from './tokens';

/** The settings the researcher's own author entry is remembered in. */
export type AuthorSettings = Pick<ISettingRegistry.ISettings, 'get' | 'set'>;

/**
 * The researcher's own entry in a submitted form: the author named as the
 * logged-in user, else the first author (the form puts the researcher first).
 */
export function ownAuthor(
  form: ISubmissionForm,
  user: IUser | null | undefined
): IAuthor | null {
  const authors = form.authors.filter(a => a && a.name && a.name.trim());
  const names = user ? [user.name, user.username].filter(n => n) : [];
  const named = authors.find(a => names.includes(a.name.trim()));
  return named ?? authors[0] ?? null;
}

function validOrcid(value: string): boolean {
  try {
    orcidUrl(value);
    return true;
  } catch (error) {
    if (error instanceof RuleError) {
      return false;
    }
    throw error;
  }
}

/**
 * After a successful submission, remember the researcher's ORCID iD and
 * affiliation in the settings `orcid` and `affiliation`, so the next form
 * starts with them. Only non-empty values that changed are written; an
 * empty field leaves the setting as it is (it may be left out on purpose
 * for one notebook).
 */
export async function rememberAuthor(
  settings: AuthorSettings,
  form: ISubmissionForm,
  user: IUser | null | undefined
): Promise<void> {
  const me = ownAuthor(form, user);
  if (!me) {
    return;
  }
  const orcid = (me.orcid ?? '').trim();
  const affiliation = (me.affiliation ?? '').trim();
  if (orcid && validOrcid(orcid) && settings.get('orcid').composite !== orcid) {
    await settings.set('orcid', orcid);
  }
  if (affiliation && settings.get('affiliation').composite !== affiliation) {
    await settings.set('affiliation', affiliation);
  }
}
