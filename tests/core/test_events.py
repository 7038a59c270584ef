import json

from core import events as E


def test_epoch_line_matches_the_tutorials_format():
    e = E.EpochCompleted(epoch=1, total_epochs=10, train_loss=0.69021, val_loss=0.68209, val_accuracy=0.54, elapsed_s=1.0)
    assert e.seed_line() == "Epoch 1/10, Train Loss: 0.6902, Val Loss: 0.6821, Val Accuracy: 0.5400"


def test_events_round_trip_through_json():
    samples = [
        E.StepLogged(epoch=1, step=20, total_steps=100, epoch_progress=0.2, loss=0.7, lr=1e-3,
                     samples_per_s=900.0, tokens_per_s=9000.0, elapsed_s=2.0, eta_s=8.0),
        E.ClassReportComputed(label_names=["neg", "pos"], accuracy=0.75, precision=[0.8, 0.7], recall=[0.7, 0.8],
                             f1=[0.75, 0.75], support=[10, 10], confusion=[[7, 3], [2, 8]]),
        E.TrainingFailed(message="loss became nan at step 12", hint="lower train.lr", step=12),
    ]
    for event in samples:
        back = E.from_record(json.loads(json.dumps(E.to_record(event))))
        assert back == event


def test_report_table_names_classes_and_confusion():
    r = E.ClassReportComputed(label_names=["ham", "spam"], accuracy=0.9, precision=[0.95, 0.8], recall=[0.9, 0.9],
                             f1=[0.92, 0.85], support=[80, 20], confusion=[[72, 8], [2, 18]])
    text = r.table()
    assert "ham" in text and "spam" in text
    rows = [line for line in text.splitlines() if line.startswith("spam")]
    assert rows[0].split()[1:] == ["0.8000", "0.9000", "0.8500", "20"]
    assert rows[-1].split()[1:] == ["2", "18"]


def test_sessions_written_before_the_rename_still_read_as_class_reports():
    old = {"type": "EvaluationReported", "label_names": ["neg", "pos"], "accuracy": 0.5, "precision": [0.5, 0.5],
           "recall": [0.5, 0.5], "f1": [0.5, 0.5], "support": [1, 1], "confusion": [[1, 0], [1, 0]], "epoch": 2}
    event = E.from_record(old)
    assert isinstance(event, E.ClassReportComputed) and event.epoch == 2


def test_every_event_of_the_union_is_a_known_type():
    assert set(E.EVENT_TYPES) == {cls.__name__ for cls in E.get_args(E.Event)}
    assert "ClassReportComputed" in E.EVENT_TYPES
