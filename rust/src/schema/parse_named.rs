//! Named types in the parser: full names and aliases (checked, reserved before their own
//! fields so recursion works), records with their fields and defaults, enums, fixed.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::logical_types::logical_for;
use super::parse::{Parser, PendingDefault, describe, is_valid_name, is_valid_namespace};
use super::{Enum, Field, Fixed, Kind, Name, Node, NodeId, Order, Record};
use crate::error::{Error, Result};
use crate::rules::PRIMITIVE_TYPES;

impl Parser {
    /// Works out the full name of a named type from `name` and `namespace`, checks it, and
    /// reserves it so that the type's own fields can refer to it.
    pub(super) fn define_name(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &str,
    ) -> Result<Name> {
        let raw = match obj.get("name") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(Error::schema(
                    format!("'name' must be a string, not {}", describe(other)),
                    format!("{path}/name"),
                ));
            }
            None => return Err(Error::schema("named type has no 'name'", path.to_string())),
        };
        let namespace_attr = match obj.get("namespace") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => {
                return Err(Error::schema(
                    format!("'namespace' must be a string, not {}", describe(other)),
                    format!("{path}/namespace"),
                ));
            }
        };
        let (namespace, short) = match raw.rsplit_once('.') {
            Some((space, short)) => (Some(space.to_string()), short.to_string()),
            None => (namespace_attr.or(ns).map(str::to_string), raw.to_string()),
        };
        let namespace = namespace.filter(|n| !n.is_empty());
        if !is_valid_name(&short) {
            return Err(Error::schema(
                format!(
                    "invalid name '{raw}': names start with a letter or _ and hold only letters, digits and _"
                ),
                format!("{path}/name"),
            ));
        }
        if let Some(space) = &namespace {
            if !is_valid_namespace(space) {
                return Err(Error::schema(
                    format!("invalid namespace '{space}'"),
                    format!("{path}/namespace"),
                ));
            }
        }
        if PRIMITIVE_TYPES.contains(&short.as_str()) {
            return Err(Error::schema(
                format!("'{short}' is a primitive type and cannot be redefined"),
                format!("{path}/name"),
            ));
        }
        let fullname = match &namespace {
            Some(space) => format!("{space}.{short}"),
            None => short.clone(),
        };
        if self.names.contains_key(&fullname) {
            return Err(Error::schema(
                format!("name '{fullname}' is already defined"),
                format!("{path}/name"),
            ));
        }
        Ok(Name {
            fullname,
            name: short,
            namespace,
        })
    }

    /// The full name (checked and reserved) and the aliases of a named type.
    fn name_and_aliases(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &str,
    ) -> Result<(Name, Vec<String>)> {
        let name = self.define_name(obj, ns, path)?;
        let aliases = self.parse_aliases(obj, name.namespace.as_deref(), path)?;
        Ok((name, aliases))
    }

    pub(super) fn parse_aliases(
        &self,
        obj: &Map<String, Value>,
        namespace: Option<&str>,
        path: &str,
    ) -> Result<Vec<String>> {
        let Some(value) = obj.get("aliases") else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(Error::schema(
                "'aliases' must be an array of names",
                format!("{path}/aliases"),
            ));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::String(alias) = item else {
                return Err(Error::schema(
                    "an alias must be a string",
                    format!("{path}/aliases/{i}"),
                ));
            };
            let valid = match alias.rsplit_once('.') {
                Some((space, short)) => is_valid_namespace(space) && is_valid_name(short),
                None => is_valid_name(alias),
            };
            if !valid {
                return Err(Error::schema(
                    format!("invalid alias '{alias}'"),
                    format!("{path}/aliases/{i}"),
                ));
            }
            out.push(match (alias.contains('.'), namespace) {
                (false, Some(space)) => format!("{space}.{alias}"),
                _ => alias.clone(),
            });
        }
        Ok(out)
    }

    pub(super) fn parse_record(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &mut String,
        is_error: bool,
    ) -> Result<NodeId> {
        let (name, aliases) = self.name_and_aliases(obj, ns, path)?;
        // Reserve the id first so fields can refer to the record recursively. The placeholder
        // is already a record of this name: a union holding the record itself
        // (`["null", "Self"]`) must see a named record, not some other type.
        let id = self.push(Node::Record(Record {
            name: name.clone(),
            aliases: aliases.clone(),
            fields: Vec::new(),
            is_error,
        }));
        self.names.insert(name.fullname.clone(), id);
        let fields_value = obj.get("fields").ok_or_else(|| {
            Error::schema(
                format!("record '{}' has no 'fields'", name.fullname),
                path.clone(),
            )
        })?;
        let Value::Array(field_values) = fields_value else {
            return Err(Error::schema(
                "'fields' must be an array",
                format!("{path}/fields"),
            ));
        };
        let mut fields: Vec<Field> = Vec::with_capacity(field_values.len());
        let mut seen = HashSet::new();
        for (i, fv) in field_values.iter().enumerate() {
            let field_path = format!("{path}/fields/{i}");
            let Value::Object(f) = fv else {
                return Err(Error::schema("a field must be an object", field_path));
            };
            let fname = match f.get("name") {
                Some(Value::String(s)) => s.clone(),
                Some(_) => {
                    return Err(Error::schema(
                        "field 'name' must be a string",
                        format!("{field_path}/name"),
                    ));
                }
                None => return Err(Error::schema("field has no 'name'", field_path)),
            };
            Member::Field.check(&mut seen, &fname, &name, || format!("{field_path}/name"))?;
            let type_value = f.get("type").ok_or_else(|| {
                Error::schema(format!("field '{fname}' has no 'type'"), field_path.clone())
            })?;
            let mut type_path = format!("{field_path}/type");
            let node = self.parse_node(type_value, name.namespace.as_deref(), &mut type_path)?;
            let order = match f.get("order") {
                None => Order::Ascending,
                Some(Value::String(s)) if s == "ascending" => Order::Ascending,
                Some(Value::String(s)) if s == "descending" => Order::Descending,
                Some(Value::String(s)) if s == "ignore" => Order::Ignore,
                Some(_) => {
                    return Err(Error::schema(
                        "field 'order' must be \"ascending\", \"descending\" or \"ignore\"",
                        format!("{field_path}/order"),
                    ));
                }
            };
            let aliases = match f.get("aliases") {
                None => Vec::new(),
                Some(Value::Array(items)) => {
                    let mut out = Vec::new();
                    for (j, a) in items.iter().enumerate() {
                        match a {
                            Value::String(s) if is_valid_name(s) => out.push(s.clone()),
                            _ => {
                                return Err(Error::schema(
                                    "a field alias must be a valid name",
                                    format!("{field_path}/aliases/{j}"),
                                ));
                            }
                        }
                    }
                    out
                }
                Some(_) => {
                    return Err(Error::schema(
                        "field 'aliases' must be an array",
                        format!("{field_path}/aliases"),
                    ));
                }
            };
            let default = f.get("default").cloned();
            if let Some(value) = &default {
                self.defaults.push(PendingDefault {
                    field: fname.clone(),
                    node,
                    value: value.clone(),
                    path: format!("{field_path}/default"),
                });
            }
            fields.push(Field {
                name: fname,
                aliases,
                node,
                default,
                order,
            });
        }
        #[allow(clippy::indexing_slicing)] // reserved above
        {
            self.nodes[id] = Node::Record(Record {
                name,
                aliases,
                fields,
                is_error,
            });
        }
        Ok(id)
    }

    pub(super) fn parse_enum(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &str,
    ) -> Result<NodeId> {
        let (name, aliases) = self.name_and_aliases(obj, ns, path)?;
        let Some(Value::Array(items)) = obj.get("symbols") else {
            return Err(Error::schema(
                format!("enum '{}' needs a 'symbols' array", name.fullname),
                path.to_string(),
            ));
        };
        let mut symbols = Vec::with_capacity(items.len());
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let Value::String(sym) = item else {
                return Err(Error::schema(
                    "an enum symbol must be a string",
                    format!("{path}/symbols/{i}"),
                ));
            };
            Member::Symbol.check(&mut seen, sym, &name, || format!("{path}/symbols/{i}"))?;
            symbols.push(sym.clone());
        }
        let default = match obj.get("default") {
            None => None,
            Some(Value::String(d)) => match symbols.iter().position(|s| s == d) {
                Some(i) => Some(i),
                None => {
                    return Err(Error::schema(
                        format!(
                            "enum default '{d}' is not one of the symbols of '{}'",
                            name.fullname
                        ),
                        format!("{path}/default"),
                    ));
                }
            },
            Some(_) => {
                return Err(Error::schema(
                    "enum 'default' must be a symbol",
                    format!("{path}/default"),
                ));
            }
        };
        Ok(self.push_named(Node::Enum(Enum {
            name,
            aliases,
            symbols,
            default,
        })))
    }

    /// Adds an enum or fixed, defined in one go, and makes its name known.
    fn push_named(&mut self, node: Node) -> NodeId {
        let fullname = node.name().map(|n| n.fullname.clone());
        let id = self.push(node);
        if let Some(fullname) = fullname {
            self.names.insert(fullname, id);
        }
        id
    }

    pub(super) fn parse_fixed(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &str,
    ) -> Result<NodeId> {
        let (name, aliases) = self.name_and_aliases(obj, ns, path)?;
        let Some(size) = obj.get("size") else {
            return Err(Error::schema(
                format!("fixed '{}' has no 'size'", name.fullname),
                path.to_string(),
            ));
        };
        let size = match size.as_u64() {
            Some(s) if s <= u64::from(u32::MAX) => s as usize,
            _ => {
                return Err(Error::schema(
                    format!(
                        "fixed '{}' needs a non-negative integer 'size'",
                        name.fullname
                    ),
                    format!("{path}/size"),
                ));
            }
        };
        let logical = logical_for(obj, Kind::Fixed, Some(size));
        Ok(self.push_named(Node::Fixed(Fixed {
            name,
            aliases,
            size,
            logical,
        })))
    }
}

/// What a record or enum names, each with a name of its own: fields and symbols.
#[derive(Clone, Copy)]
enum Member {
    Field,
    Symbol,
}

impl Member {
    /// `member` must be a valid name, and the first of its spelling in `owner` (`seen`).
    fn check(
        self,
        seen: &mut HashSet<String>,
        member: &str,
        owner: &Name,
        at: impl FnOnce() -> String,
    ) -> Result<()> {
        let owner = &owner.fullname;
        let message = if !is_valid_name(member) {
            match self {
                Member::Field => format!("invalid field name '{member}'"),
                Member::Symbol => format!("invalid enum symbol '{member}'"),
            }
        } else if !seen.insert(member.to_string()) {
            match self {
                Member::Field => format!("record '{owner}' has two fields named '{member}'"),
                Member::Symbol => format!("enum '{owner}' has the symbol '{member}' twice"),
            }
        } else {
            return Ok(());
        };
        Err(Error::schema(message, at()))
    }
}
