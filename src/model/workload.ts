// Workload identity as the inventory states it. An address belongs to a workload only inside its
// lease window, because addresses are reused when pods come and go.

export type Labels = Readonly<Record<string, string>>;

export interface AddressLease {
  ip: string;
  /** ISO 8601 start of the lease; absent = since forever. */
  since?: string;
  /** ISO 8601 end of the lease (exclusive); absent = still held. */
  until?: string;
}

export interface Workload {
  /** Stable identity, unique in the inventory: "namespace/name" unless the source says otherwise. */
  id: string;
  name: string;
  namespace: string;
  /** Pod, Deployment, StatefulSet, DaemonSet, Container, VM, ... */
  kind: string;
  labels: Labels;
  node: string;
  image: string;
  /** The service this workload belongs to (derived from metadata when the source has none). */
  service: string;
  addresses: AddressLease[];
}

export interface Namespace {
  name: string;
  labels: Labels;
}

export interface Node {
  name: string;
  addresses: string[];
  labels?: Labels;
}

export interface Service {
  name: string;
  namespace: string;
  selector: Labels;
  ports: { name?: string; protocol: 'tcp' | 'udp' | 'sctp'; port: number; targetPort?: number | string }[];
  clusterIPs: string[];
}

export interface Inventory {
  workloads: Workload[];
  namespaces: Namespace[];
  nodes: Node[];
  services: Service[];
}

export const emptyInventory = (): Inventory => ({ workloads: [], namespaces: [], nodes: [], services: [] });
