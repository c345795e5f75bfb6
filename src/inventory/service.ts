// Which service a workload belongs to when its source does not say: the Kubernetes Service whose
// selector picks it, else the labels tools conventionally name an application by. Shared by both
// inventory formats so a pod and a hand-written workload are named the same way.

import type { Labels, Service } from '../model/workload.js';

/** Labels that name the application, most specific first. */
const NAME_LABELS = ['app.kubernetes.io/name', 'app', 'k8s-app'] as const;

/** A Service with an empty selector selects nothing (Kubernetes leaves its endpoints to the user). */
export function serviceSelects(service: Service, namespace: string, labels: Labels): boolean {
  const entries = Object.entries(service.selector);
  return service.namespace === namespace && entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

export function deriveService(namespace: string, labels: Labels, services: readonly Service[], fallback: string): string {
  const selecting = services.find((s) => serviceSelects(s, namespace, labels));
  if (selecting !== undefined) return selecting.name;
  for (const key of NAME_LABELS) {
    const value = labels[key];
    if (value !== undefined && value !== '') return value;
  }
  return fallback;
}
