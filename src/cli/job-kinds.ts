// The built-in job kinds this scheduler has, in the order the job table lists them.
import type { BuiltinJobKind } from '../config/builtin-job.js';
import { autodeployJobKind } from '../autodeploy/job.js';
import { notebookDeployJobKind } from '../notebooks/job.js';

export const BUILTIN_JOB_KINDS: readonly BuiltinJobKind[] = [autodeployJobKind, notebookDeployJobKind];
