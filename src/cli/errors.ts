// Errors a user can cause, with stable codes and the exit status each maps to.

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}
