//! Unions in resolution: a writer branch against the reader, the reader branch a writer
//! type takes (Java's order), and trying a branch without keeping what fails.

use super::builder::{Builder, Trial};
use super::{BranchTarget, Issue, OpId};
use crate::matching::{promotion, select_branch};
use crate::schema::{Node, NodeId};

impl<'a> Builder<'a> {
    /// One writer union branch against the reader (a union or not). Errors inside a branch
    /// only concern the records that use it, so they become a read-time failure.
    pub(super) fn resolve_writer_branch(&mut self, wb: NodeId, r: NodeId) -> BranchTarget {
        let (writer, reader) = (self.writer, self.reader);
        let what = writer.node(wb).branch_name().to_string();
        let errors_before = self.errors.len();
        let resolved = match reader.node(r) {
            Node::Union { branches } => self
                .union_branch(wb, branches, false)
                .map(|(i, op)| (Some(i as u32), op)),
            rn => {
                let (wk, rk) = (writer.node(wb).kind(), rn.kind());
                let readable = (wk == rk && self.names_match(wb, r)) || promotion(wk, rk).is_some();
                if !readable {
                    let msg = format!(
                        "the writer union's {what} branch cannot be read as {}",
                        rn.branch_name()
                    );
                    self.warnings.push(Issue {
                        kind: "MISSING_UNION_BRANCH",
                        location: self.here(),
                        message: msg.clone(),
                    });
                    return BranchTarget::Fail(Box::from(msg.as_str()));
                }
                self.resolve(wb, r).map(|op| (None, op))
            }
        };
        match resolved {
            Some((reader_index, op)) if self.errors.len() == errors_before => {
                BranchTarget::To { reader_index, op }
            }
            _ => {
                // Demote the branch's errors to warnings: only records using it fail.
                let demoted: Vec<Issue> = self.errors.drain(errors_before..).collect();
                let only_missing = demoted.len() == 1
                    && demoted
                        .first()
                        .is_some_and(|i| i.kind == "MISSING_UNION_BRANCH");
                let msg = if only_missing {
                    demoted
                        .iter()
                        .map(|i| i.message.clone())
                        .collect::<String>()
                } else {
                    let listed: Vec<String> = demoted.iter().map(Issue::render).collect();
                    format!("this union branch does not resolve: {}", listed.join("; "))
                };
                self.warnings.extend(demoted);
                BranchTarget::Fail(Box::from(msg.as_str()))
            }
        }
    }

    /// The reader union branch non-union writer node `w` is read as (`matching`), with the
    /// op reading it. Each candidate is tried; one that does not resolve is taken back. When
    /// none resolves, the first candidate (Java's pick) is resolved again to report why; or
    /// the reader union has no branch for the writer's type at all. `at_index`: locations
    /// name the reader branch (a writer union's branch already names the writer's).
    pub(super) fn union_branch(
        &mut self,
        w: NodeId,
        branches: &[NodeId],
        at_index: bool,
    ) -> Option<(usize, OpId)> {
        let (writer, reader) = (self.writer, self.reader);
        let mut tried: Vec<Trial> = vec![None; branches.len()];
        let mut first_candidate: Option<usize> = None;
        let picked = select_branch(writer, w, reader, branches, |i| {
            first_candidate.get_or_insert(i);
            let Some(rb) = branches.get(i).copied() else {
                return false;
            };
            let result = if at_index {
                self.with(&i.to_string(), |b| b.trial(w, rb))
            } else {
                self.trial(w, rb)
            };
            let ok = result.is_some();
            if let Some(slot) = tried.get_mut(i) {
                *slot = result;
            }
            ok
        });
        if let Some(i) = picked {
            if let Some(Some((op, warnings))) = tried.get_mut(i).map(Option::take) {
                self.warnings.extend(warnings);
                return Some((i, op));
            }
        }
        let what = writer.node(w).branch_name().to_string();
        match first_candidate.and_then(|i| branches.get(i).map(|rb| (i, *rb))) {
            Some((i, rb)) => {
                let errors_before = self.errors.len();
                let again = if at_index {
                    self.with(&i.to_string(), |b| b.resolve(w, rb))
                } else {
                    self.resolve(w, rb)
                };
                match again {
                    Some(op) if self.errors.len() == errors_before => Some((i, op)),
                    _ => None,
                }
            }
            None => {
                self.error(
                    "MISSING_UNION_BRANCH",
                    format!("the reader union has no branch for the writer's {what}"),
                );
                None
            }
        }
    }

    /// Builds the op for (w, r) tentatively: on success it stays (with the warnings it
    /// raised, handed back), on failure everything it added is taken back.
    pub(super) fn trial(&mut self, w: NodeId, r: NodeId) -> Trial {
        if self.unresolvable.contains(&(w, r)) {
            return None;
        }
        let (ops, errors, warnings) = (self.ops.len(), self.errors.len(), self.warnings.len());
        let out = self.resolve(w, r);
        let raised: Vec<Issue> = self.warnings.drain(warnings..).collect();
        match out {
            Some(op) if self.errors.len() == errors => Some((op, raised)),
            _ => {
                self.errors.truncate(errors);
                self.ops.truncate(ops);
                self.memo.retain(|_, id| *id < ops);
                self.unresolvable.insert((w, r));
                None
            }
        }
    }
}
