/**
 * The model families by name, and the defaults that depend on the family — what options/ must know of a
 * family; everything else about it is its record in model/families.ts. A new family is a name and its
 * defaults here, and its record there (docs/architecture.md, "What a change touches").
 */

export const LOSSES = ['l2', 'l1'] as const;

export type Loss = (typeof LOSSES)[number];

export const isLoss = (value: unknown): value is Loss => (LOSSES as readonly unknown[]).includes(value);

interface FamilyDefaults {
  /** Default `tol` for the solver (l2: 1 − Pearson of W, or the relative loss drop of 'fast'; l1: the objective's drop). */
  readonly tol: (solver: unknown) => number;
  /** Default online `window` (chunks), given the solver and whether an NNLS method was chosen. */
  readonly window: (solver: unknown, nnlsGiven: boolean) => number;
  readonly doc: string;
}

export const LOSS_DEFAULTS: Readonly<Record<Loss, FamilyDefaults>> = {
  // l2 'fast': window 4 (bench/README.md, bench:online: the default that meets both goals)
  l2: { tol: (solver) => (solver === 'fast' ? 1e-5 : 1e-4), window: (solver, nnlsGiven) => (solver === 'fast' && !nnlsGiven ? 4 : 1), doc: 'least squares' },
  l1: { tol: () => 1e-6, window: () => 8, doc: 'weighted L1 by sparse coordinate descent' },
};
