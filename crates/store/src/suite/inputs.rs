//! What an import run was given: kept in pieces in one transaction, read back piece by
//! piece; inputs kept whole before the pieces move into piece 0, and back on the way down.

use model::ids::RunId;
use sea_orm::{ActiveValue, EntityTrait};

use super::store_with_district;
use crate::entities::run_inputs;
use crate::Backend;

crate::on_both_backends!(
    an_input_is_kept_once_in_pieces_and_read_back_in_order,
    an_input_kept_whole_moves_into_pieces_and_back,
);

async fn an_input_is_kept_once_in_pieces_and_read_back_in_order(backend: Backend) {
    let (_db, store, d) = store_with_district(backend, "cbe").await;
    let run = RunId::new();
    let mut kept = store
        .keep_run_input(&d, run, "guardians.csv")
        .await
        .expect("keep");
    for piece in ["student_id,", "first_name\n", "é,Ana\n"] {
        kept.piece(piece.to_owned()).await.expect("piece");
    }
    kept.commit().await.expect("commit");
    assert_eq!(
        store
            .run_input_name(&d, run)
            .await
            .expect("name")
            .as_deref(),
        Some("guardians.csv")
    );
    let mut read = Vec::new();
    for seq in 0.. {
        match store.run_input_piece(&d, run, seq).await.expect("piece") {
            Some(p) => read.push(p),
            None => break,
        }
    }
    assert_eq!(read, ["student_id,", "first_name\n", "é,Ana\n"]);

    // Kept once: a second keep changes nothing.
    let mut again = store
        .keep_run_input(&d, run, "other.csv")
        .await
        .expect("keep");
    again.piece("other".into()).await.expect("piece");
    again.commit().await.expect("commit");
    assert_eq!(
        store
            .run_input_name(&d, run)
            .await
            .expect("name")
            .as_deref(),
        Some("guardians.csv")
    );
    assert_eq!(
        store
            .run_input_piece(&d, run, 0)
            .await
            .expect("piece")
            .as_deref(),
        Some("student_id,")
    );

    // Pieces not committed are not kept, nor is the name.
    let unfinished = RunId::new();
    let mut kept = store
        .keep_run_input(&d, unfinished, "half.csv")
        .await
        .expect("keep");
    kept.piece("half".into()).await.expect("piece");
    drop(kept);
    assert_eq!(
        store.run_input_name(&d, unfinished).await.expect("name"),
        None
    );
    assert_eq!(
        store
            .run_input_piece(&d, unfinished, 0)
            .await
            .expect("piece"),
        None
    );
}

async fn an_input_kept_whole_moves_into_pieces_and_back(backend: Backend) {
    let (_db, store, d) = store_with_district(backend, "cbe").await;
    store
        .migrate_down(Some(super::steps_back_to("run_input_pieces")))
        .await
        .expect("down to before the pieces");
    let old = RunId::new();
    let whole = "student_id,first_name\n7,Ana\n";
    run_inputs::Entity::insert(run_inputs::ActiveModel {
        district_id: ActiveValue::Set(d.to_string()),
        run_id: ActiveValue::Set(old.to_string()),
        name: ActiveValue::Set("old.csv".into()),
        content: ActiveValue::Set(whole.into()),
        created_at: ActiveValue::Set(crate::convert::stored(crate::convert::now())),
    })
    .exec(store.db())
    .await
    .expect("an input kept whole");
    store.migrate().await.expect("up");
    assert_eq!(
        store
            .run_input_piece(&d, old, 0)
            .await
            .expect("piece")
            .as_deref(),
        Some(whole)
    );
    assert_eq!(
        store.run_input_piece(&d, old, 1).await.expect("piece"),
        None
    );

    let new = RunId::new();
    let mut kept = store
        .keep_run_input(&d, new, "new.csv")
        .await
        .expect("keep");
    for piece in ["a,b\n", "1,", "2\n"] {
        kept.piece(piece.to_owned()).await.expect("piece");
    }
    kept.commit().await.expect("commit");
    store
        .migrate_down(Some(super::steps_back_to("run_input_pieces")))
        .await
        .expect("down to before the pieces");
    let content = |run: RunId| {
        let store = &store;
        let d = &d;
        async move {
            run_inputs::Entity::find_by_id((d.to_string(), run.to_string()))
                .one(store.db())
                .await
                .expect("read")
                .expect("kept")
                .content
        }
    };
    assert_eq!(content(old).await, whole);
    assert_eq!(content(new).await, "a,b\n1,2\n");
    store.migrate().await.expect("up again");
}
