(* Every family file, and Print Assumptions on every main theorem: each must print
   "Closed under the global context" (no axioms, no admitted proofs, no open section variable).
   proofs/coq/check.sh compares the list below with its own list of main theorems and counts
   the lines. *)
From ICRL Require Import Prelude LinearTD LSA Sarsa ActorCritic SoftmaxTD Contraction StateSpace Population Score Counterexamples.

(* [WB] linear TD: linear-td, linear-td-lambda, linear-td-residual *)
Print Assumptions linear_td.
Print Assumptions linear_td_lambda.
Print Assumptions linear_td_residual.
(* [LL] SARSA: sarsa-readout-identity, sarsa-output-independence, sarsa-equivalence,
   sarsa-stacking *)
Print Assumptions sarsa_readout_identity.
Print Assumptions sarsa_output_independence.
Print Assumptions sarsa_equivalence.
Print Assumptions sarsa_stacking.
(* [LL] actor-critic, our reconstruction [R]: actor-critic-equivalence *)
Print Assumptions actor_critic_equivalence.
(* [XZ] softmax TD: softmax-td-equivalence, softmax-td-single-head *)
Print Assumptions softmax_td_equivalence.
Print Assumptions softmax_td_single_head.
(* [XZ] Thm 2, deterministic core: contraction-pathwise *)
Print Assumptions pathwise_error.
Print Assumptions pathwise_step.
Print Assumptions pathwise_unrolled.
Print Assumptions pathwise_unrolled_closed.
Print Assumptions rho_hat_row_bound.
(* [XZ] eq. 20, state-space form: softmax-td-state-space *)
Print Assumptions state_space_step.
Print Assumptions state_space_iterates.
Print Assumptions r_hat_M_hat.
Print Assumptions M_hat_ge0.
Print Assumptions P_hat_ge0.
Print Assumptions M_hat_row1.
Print Assumptions P_hat_row1.
(* [XZ] eq. 22, algebraic parts of contraction-assumption *)
Print Assumptions M_pi_ge0.
Print Assumptions M_pi_row1.
Print Assumptions one_hot_diag.
Print Assumptions population_fixed_point.
(* [LL] eq. 3, algebraic part of actor-critic-score *)
Print Assumptions score_mean_zero.
(* Refutations of the relaxed statements (the saved counterexamples, over rat) *)
Print Assumptions linear_td_query_mask_needed.
Print Assumptions sarsa_p22_v22_needed.
