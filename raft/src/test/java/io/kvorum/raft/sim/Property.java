package io.kvorum.raft.sim;

/** The properties the simulation checks; a failure message names one of these. */
public enum Property {
  TWO_LEADERS("election safety: two leaders in one term"),
  LOG_MATCHING("log matching"),
  LEADER_COMPLETENESS("leader completeness"),
  COMMITTED_ENTRY_CHANGED("committed entry changed"),
  STATE_MACHINE_SAFETY("state machine safety"),
  APPLIED_WENT_BACK("applied index went back"),
  HARD_STATE_WENT_BACK("hard state went back"),
  DOUBLE_VOTE("voted twice in one term"),
  CONFIG_DIVERGENCE("configuration divergence"),
  STALE_READ("stale read"),
  READY_CONTRACT("ready contract"),
  LIVENESS("liveness"),
  CORE_EXCEPTION("raft threw");

  private final String text;

  Property(String text) {
    this.text = text;
  }

  /** The words a failure message uses for this property. */
  public String text() {
    return text;
  }
}
