//! Prop values that compare the way the page needs, so that every props struct can derive
//! `PartialEq` (a hand-written one that forgets a field leaves a chart that never redraws).

use std::ops::Deref;
use std::rc::Rc;
use yew::html::IntoPropValue;
use yew::Callback;

/// Data shared by pointer: two are equal when they are the same allocation. An analysis or a
/// report is replaced, never changed in place, so this is exact, and it costs nothing where a
/// deep comparison would walk every number on each progress message.
pub struct Shared<T>(pub Rc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> IntoPropValue<Shared<T>> for Rc<T> {
    fn into_prop_value(self) -> Shared<T> {
        Shared(self)
    }
}

/// A callback prop that does not by itself make its component redraw: the page makes its
/// callbacks anew on every render, each calling the same setters, so comparing them by pointer
/// would redraw every table and chart on every progress message.
pub struct Handler<T: 'static>(pub Callback<T>);

impl<T> Clone for Handler<T> {
    fn clone(&self) -> Self {
        Handler(self.0.clone())
    }
}

impl<T> PartialEq for Handler<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Deref for Handler<T> {
    type Target = Callback<T>;
    fn deref(&self) -> &Callback<T> {
        &self.0
    }
}

impl<T> IntoPropValue<Handler<T>> for Callback<T> {
    fn into_prop_value(self) -> Handler<T> {
        Handler(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_values_are_equal_by_allocation_and_handlers_always() {
        let a = Rc::new(vec![1.0, 2.0]);
        let same = Shared(a.clone());
        assert!(Shared(a.clone()) == same);
        // Equal contents in another allocation: a new analysis, so it redraws.
        assert!(Shared(Rc::new(vec![1.0, 2.0])) != same);
        assert_eq!(same.len(), 2);
        let h1: Handler<u32> = Callback::from(|_: u32| ()).into_prop_value();
        let h2: Handler<u32> = Callback::noop().into_prop_value();
        assert!(h1 == h2);
    }
}
