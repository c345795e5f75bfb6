// What reading Kubernetes manifests can go wrong with, as values: every stage (file reading,
// object parsing, cluster assembly) appends to one list so a user sees all problems of an input
// at once, each naming the file, the object (Kind namespace/name) and the field.

export interface Problem {
  severity: 'error' | 'warning';
  /** The file as the user named it (the directory given joined with the path inside it). */
  file?: string;
  /** 1-based position in the file, where the parser knows it. */
  line?: number;
  col?: number;
  /** `NetworkPolicy default/backend-netpol`, `Pod demo/bank-ui`, `document 3`. */
  object?: string;
  /** Path inside the object: `spec.ingress[2].from[0].ipBlock.cidr`. */
  field?: string;
  message: string;
}

/** `dir/netpols.yaml: NetworkPolicy default/x: spec.podSelector: selector error: ...`. */
export function formatProblem(p: Problem): string {
  let where = p.file ?? '';
  if (p.file !== undefined && p.line !== undefined) where += `:${p.line}${p.col !== undefined ? `:${p.col}` : ''}`;
  const parts = [where, p.object, p.field].filter((s): s is string => s !== undefined && s !== '');
  const prefix = p.severity === 'warning' ? 'warning: ' : '';
  return parts.length > 0 ? `${prefix}${parts.join(': ')}: ${p.message}` : `${prefix}${p.message}`;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}
