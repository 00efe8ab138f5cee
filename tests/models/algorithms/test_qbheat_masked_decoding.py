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
    full = model.decoder(model.neck(model.encode_visible(x)), decode_visible=True)
    ref = sum(model.head.loss(full, x).values())
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
        fast = model.decoder(full_map, decode_visible=False).reshape(2, 4, 4, -1)
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
