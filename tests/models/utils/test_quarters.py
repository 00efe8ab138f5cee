"""The hidden quarter's one home: crop, quarters, mask, split/merge, last map."""
import pytest
import torch

from qbheat_mm.models.utils.quarters import (decodes_visible, hidden_mask, image_quarters,
                                             last_map, merge_quarters, split_quarters,
                                             visible_quarter)


def test_visible_quarter_is_the_top_left_of_four_quarters_that_tile_the_image():
    x = torch.arange(2 * 3 * 6 * 8, dtype=torch.float32).reshape(2, 3, 6, 8)
    q = image_quarters(x)
    assert torch.equal(visible_quarter(x), q[0]) and q[0].shape == (2, 3, 3, 4)
    tiled = torch.cat([torch.cat(q[:2], -1), torch.cat(q[2:], -1)], -2)
    assert torch.equal(tiled, x)
    assert x[0, 0, 0, 4] == q[1][0, 0, 0, 0] and x[0, 0, 3, 0] == q[2][0, 0, 0, 0]


def test_hidden_mask_zeroes_the_visible_quarters_cells_only():
    mask = hidden_mask((4, 6)).reshape(4, 6)
    assert mask[:2, :3].sum() == 0 and mask[2:].min() == 1 and mask[:, 3:].min() == 1
    assert mask.sum() == 18


def test_decodes_visible_reads_the_mask():
    grid = (4, 4)
    assert decodes_visible(None, grid)
    assert not decodes_visible(hidden_mask(grid), grid)
    assert decodes_visible(torch.ones(1, 16), grid)
    one_visible = hidden_mask(grid).repeat(3, 1)
    one_visible[2, 0] = 1
    assert decodes_visible(one_visible, grid)


def test_split_then_merge_is_row_major_over_the_full_map():
    x = torch.randn(2, 5, 4, 6)
    tokens = split_quarters(x)
    assert tokens.shape == (8, 6, 5)
    # the second sequence is image 0's top-right quarter, cells row-major
    torch.testing.assert_close(tokens[1], x[0, :, :2, 3:].flatten(1).T)
    torch.testing.assert_close(merge_quarters(tokens, (4, 6)), x.flatten(2).transpose(1, 2))


def test_last_map_takes_the_last_output_and_refuses_tokens():
    maps = (torch.zeros(1, 2, 4, 4), torch.ones(1, 3, 2, 2))
    assert last_map(maps) is maps[1]
    with pytest.raises(ValueError, match='with_tokens=True or a pooled output'):
        last_map(torch.zeros(1, 3))
