"""Training without decoding the visible quarter computes the loss of decoding everything:
the speed-up of a masked loss changes no loss value and no gradient."""
import pytest
import torch


def grads(model: torch.nn.Module) -> dict:
    return {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize('scope', ['quarter', 'global'])
def test_masked_loss_skipping_the_visible_quarter_equals_decoding_all(tiny_qbheat, scope):
    model = tiny_qbheat(scope=scope)
    x = torch.randn(2, 3, 128, 128)
    loss = sum(model.loss(x).values())  # the fast path: visible quarter not decoded
    loss.backward()
    fast = grads(model)
    model.zero_grad(set_to_none=True)
    ref = sum(model.loss(x, decode_all=True).values())
    ref.backward()
    torch.testing.assert_close(loss, ref, rtol=1e-6, atol=0)
    assert fast.keys() == grads(model).keys()
    for k, g in grads(model).items():
        torch.testing.assert_close(fast[k], g, rtol=1e-5, atol=1e-7, msg=k)


@pytest.mark.parametrize('scope', ['quarter', 'global'])
def test_decoder_without_the_visible_quarter_zeroes_only_its_cells(tiny_qbheat, scope):
    model = tiny_qbheat(scope=scope)
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        full_map = model.neck(model.encode_visible(x))
        full = model.decoder(full_map).reshape(2, 4, 4, -1)
        mask = model.head.loss_mask((4, 4), x.device)
        fast = model.decoder(full_map, mask).reshape(2, 4, 4, -1)
    assert fast[:, :2, :2].abs().max() == 0
    for rows, cols in ((slice(0, 2), slice(2, 4)), (slice(2, 4), slice(None))):
        torch.testing.assert_close(fast[:, rows, cols], full[:, rows, cols])


def test_loss_over_all_cells_still_decodes_the_visible_quarter(tiny_qbheat):
    model = tiny_qbheat()
    model.head.loss_region = 'all'
    x = torch.randn(2, 3, 128, 128)
    full = model.decoder(model.neck(model.encode_visible(x)))
    torch.testing.assert_close(sum(model.loss(x).values()),
                               sum(model.head.loss(full, x).values()))
    assert model.head.loss_mask((4, 4), x.device).min() == 1


def test_decode_all_decodes_the_visible_quarter_the_fast_path_zeroes(tiny_qbheat):
    model = tiny_qbheat()
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        mask = model.head.loss_mask((4, 4), x.device)
        fast = model.predict_cells(x, mask).reshape(2, 4, 4, -1)
        full = model.predict_cells(x).reshape(2, 4, 4, -1)
    assert fast[:, :2, :2].abs().max() == 0 and full[:, :2, :2].abs().max() > 0
    torch.testing.assert_close(fast[:, 2:], full[:, 2:])
