import { addressLedger, type AddOutcome, type AddressLedger, type InterfaceAddress } from '../os/address-ledger.js';

/** An address ulvs holds on an interface (keepalived's static_ipaddress / virtual_ipaddress). */
export type HeldAddress = InterfaceAddress;

/**
 * The director's static addresses. Which ones ulvs added (and so removes on stop) is the
 * process's AddressLedger's business, shared with the VRRP speaker: an address the admin
 * configured by hand stays when ulvs stops, and one a killed ulvs left is adopted at start-up
 * (src/control/recovery.ts).
 */
export class AddressHolder {
  constructor(private readonly ledger: AddressLedger = addressLedger) {}

  /** Adds the address unless it is already there ('not-ours': used, never removed). */
  hold(addr: HeldAddress): Promise<AddOutcome> {
    return this.ledger.add(addr);
  }

  /** Everything ulvs holds now, static and VRRP. */
  held(): HeldAddress[] {
    return this.ledger.held();
  }

  /** Removes one address ulvs added (reload); leaves addresses it did not add alone. */
  release(addr: HeldAddress): void {
    this.ledger.removeSync(addr);
  }

  /** Everything ulvs added, static and VRRP. Synchronous so it also runs from exit handlers. Never throws. */
  releaseAll(): void {
    this.ledger.removeAllSync();
  }
}
