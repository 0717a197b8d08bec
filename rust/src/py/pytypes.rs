//! Python classes the codec builds or recognises (datetime, Decimal, UUID, the ABCs),
//! imported once per interpreter.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

pub(crate) struct PyTypes {
    pub date: Py<PyAny>,
    pub time: Py<PyAny>,
    pub datetime: Py<PyAny>,
    pub utc: Py<PyAny>,
    pub epoch_utc: Py<PyAny>,
    pub decimal: Py<PyAny>,
    pub uuid: Py<PyAny>,
    /// `object.__new__`, to make a UUID without running its Python `__init__`.
    pub object_new: Py<PyAny>,
    pub safe_uuid_unknown: Py<PyAny>,
    pub mapping: Py<PyAny>,
    pub sequence: Py<PyAny>,
    pub array_array: Py<PyAny>,
    pub integral: Py<PyAny>,
    pub real: Py<PyAny>,
    pub mktime: Py<PyAny>,
}

static TYPES: PyOnceLock<PyTypes> = PyOnceLock::new();

pub(crate) fn py_types(py: Python<'_>) -> PyResult<&'static PyTypes> {
    TYPES.get_or_try_init(py, || {
        let dt = py.import("datetime")?;
        let utc = dt.getattr("timezone")?.getattr("utc")?;
        let datetime = dt.getattr("datetime")?;
        let epoch_utc = datetime.call1((1970, 1, 1, 0, 0, 0, 0, &utc))?;
        let abc = py.import("collections.abc")?;
        let numbers = py.import("numbers")?;
        Ok(PyTypes {
            date: dt.getattr("date")?.unbind(),
            time: dt.getattr("time")?.unbind(),
            datetime: datetime.unbind(),
            utc: utc.unbind(),
            epoch_utc: epoch_utc.unbind(),
            decimal: py.import("decimal")?.getattr("Decimal")?.unbind(),
            uuid: py.import("uuid")?.getattr("UUID")?.unbind(),
            object_new: py
                .get_type::<pyo3::types::PyAny>()
                .getattr("__new__")?
                .unbind(),
            safe_uuid_unknown: py
                .import("uuid")?
                .getattr("SafeUUID")?
                .getattr("unknown")?
                .unbind(),
            mapping: abc.getattr("Mapping")?.unbind(),
            sequence: abc.getattr("Sequence")?.unbind(),
            array_array: py.import("array")?.getattr("array")?.unbind(),
            integral: numbers.getattr("Integral")?.unbind(),
            real: numbers.getattr("Real")?.unbind(),
            mktime: py.import("time")?.getattr("mktime")?.unbind(),
        })
    })
}
