//! Models grouped by compression method: the column groups of Table 1 and the series of the
//! charts. The grouping needs only what identifies a model ([`ModelIdentity`]), so the viewer can
//! draw Table 1 from the decoded files ([`ModelInput`]) before the analysis ends, and from the
//! report (`ModelReport`, which implements it beside its definition) after it.

use crate::model_input::ModelInput;

/// What identifies a model in Table 1: its name, method and parameter, and its accuracy.
pub trait ModelIdentity {
    fn name(&self) -> &str;
    fn method(&self) -> &str;
    fn parameter(&self) -> Option<f64>;
    fn parameter_name(&self) -> Option<&str>;
    fn accuracy(&self) -> Option<f64>;
}

/// The compressed models of one method, for tables and charts that group by method.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodGroup<'a, M> {
    pub method: &'a str,
    /// The first parameter name its models give.
    pub parameter_name: Option<&'a str>,
    /// Its models, in the given order.
    pub models: Vec<&'a M>,
}

/// The methods of `models` other than `reference`, in the order they first appear, each with
/// its models. A method no one has heard of is a group like any other.
pub fn method_groups<'a, M: ModelIdentity>(
    models: &'a [M],
    reference: &str,
) -> Vec<MethodGroup<'a, M>> {
    let mut out: Vec<MethodGroup<'a, M>> = Vec::new();
    for m in models.iter().filter(|m| m.name() != reference) {
        match out.iter_mut().find(|g| g.method == m.method()) {
            Some(g) => {
                g.parameter_name = g.parameter_name.or(m.parameter_name());
                g.models.push(m);
            }
            None => out.push(MethodGroup {
                method: m.method(),
                parameter_name: m.parameter_name(),
                models: vec![m],
            }),
        }
    }
    out
}

/// Implements [`ModelIdentity`] for a type with the fields `name`, `method`, `parameter`,
/// `parameter_name` and `accuracy` of the usual types.
macro_rules! model_identity_from_fields {
    ([$($generics:tt)*] $t:ty) => {
        impl<$($generics)*> $crate::analysis::methods::ModelIdentity for $t {
            fn name(&self) -> &str {
                &self.name
            }
            fn method(&self) -> &str {
                &self.method
            }
            fn parameter(&self) -> Option<f64> {
                self.parameter
            }
            fn parameter_name(&self) -> Option<&str> {
                self.parameter_name.as_deref()
            }
            fn accuracy(&self) -> Option<f64> {
                self.accuracy
            }
        }
    };
}
pub(crate) use model_identity_from_fields;

model_identity_from_fields!([L] ModelInput<L>);

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, method: &str, parameter_name: Option<&str>) -> ModelInput<()> {
        ModelInput {
            method: method.into(),
            parameter_name: parameter_name.map(str::to_string),
            ..ModelInput::new(name, "test", vec![])
        }
    }

    #[test]
    fn groups_follow_first_appearance_and_skip_the_reference() {
        let models = [
            model("orig", "original", None),
            model("q8", "quant", None),
            model("p5", "prune", Some("ratio")),
            model("q4", "quant", Some("bits")),
        ];
        let groups = method_groups(&models, "orig");
        let names: Vec<(&str, Option<&str>, Vec<&str>)> = groups
            .iter()
            .map(|g| {
                let models = g.models.iter().map(|m| m.name.as_str()).collect();
                (g.method, g.parameter_name, models)
            })
            .collect();
        // quant takes the first parameter name one of its models gives (q4's, after q8's none).
        assert_eq!(
            names,
            vec![
                ("quant", Some("bits"), vec!["q8", "q4"]),
                ("prune", Some("ratio"), vec!["p5"]),
            ]
        );
    }
}
