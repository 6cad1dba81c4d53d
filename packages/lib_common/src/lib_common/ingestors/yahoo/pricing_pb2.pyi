from typing import ClassVar as _ClassVar

from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper

DESCRIPTOR: _descriptor.FileDescriptor

class QuoteType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NONE: _ClassVar[QuoteType]
    ALTSYMBOL: _ClassVar[QuoteType]
    HEARTBEAT: _ClassVar[QuoteType]
    EQUITY: _ClassVar[QuoteType]
    INDEX: _ClassVar[QuoteType]
    MUTUALFUND: _ClassVar[QuoteType]
    MONEYMARKET: _ClassVar[QuoteType]
    OPTION: _ClassVar[QuoteType]
    CURRENCY: _ClassVar[QuoteType]
    WARRANT: _ClassVar[QuoteType]
    BOND: _ClassVar[QuoteType]
    FUTURE: _ClassVar[QuoteType]
    ETF: _ClassVar[QuoteType]
    COMMODITY: _ClassVar[QuoteType]
    ECNQUOTE: _ClassVar[QuoteType]
    CRYPTOCURRENCY: _ClassVar[QuoteType]
    INDICATOR: _ClassVar[QuoteType]
    INDUSTRY: _ClassVar[QuoteType]

class MarketHoursType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRE_MARKET: _ClassVar[MarketHoursType]
    REGULAR_MARKET: _ClassVar[MarketHoursType]
    POST_MARKET: _ClassVar[MarketHoursType]
    EXTENDED_HOURS_MARKET: _ClassVar[MarketHoursType]
    OVERNIGHT_MARKET: _ClassVar[MarketHoursType]

NONE: QuoteType
ALTSYMBOL: QuoteType
HEARTBEAT: QuoteType
EQUITY: QuoteType
INDEX: QuoteType
MUTUALFUND: QuoteType
MONEYMARKET: QuoteType
OPTION: QuoteType
CURRENCY: QuoteType
WARRANT: QuoteType
BOND: QuoteType
FUTURE: QuoteType
ETF: QuoteType
COMMODITY: QuoteType
ECNQUOTE: QuoteType
CRYPTOCURRENCY: QuoteType
INDICATOR: QuoteType
INDUSTRY: QuoteType
PRE_MARKET: MarketHoursType
REGULAR_MARKET: MarketHoursType
POST_MARKET: MarketHoursType
EXTENDED_HOURS_MARKET: MarketHoursType
OVERNIGHT_MARKET: MarketHoursType

class PricingData(_message.Message):
    __slots__ = (
        "ask",
        "ask_size",
        "bid",
        "bid_size",
        "change",
        "change_percent",
        "circulating_supply",
        "currency",
        "day_high",
        "day_low",
        "day_volume",
        "exchange",
        "expire_date",
        "from_currency",
        "id",
        "last_market",
        "last_size",
        "market_cap",
        "market_hours",
        "mini_option",
        "open_interest",
        "open_price",
        "options_type",
        "previous_close",
        "price",
        "price_hint",
        "quote_type",
        "short_name",
        "strike_price",
        "time",
        "underlying_symbol",
        "vol_24hr",
        "vol_all_currencies",
    )
    ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    QUOTE_TYPE_FIELD_NUMBER: _ClassVar[int]
    MARKET_HOURS_FIELD_NUMBER: _ClassVar[int]
    CHANGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    DAY_VOLUME_FIELD_NUMBER: _ClassVar[int]
    DAY_HIGH_FIELD_NUMBER: _ClassVar[int]
    DAY_LOW_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    SHORT_NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_DATE_FIELD_NUMBER: _ClassVar[int]
    OPEN_PRICE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_CLOSE_FIELD_NUMBER: _ClassVar[int]
    STRIKE_PRICE_FIELD_NUMBER: _ClassVar[int]
    UNDERLYING_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    OPEN_INTEREST_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_TYPE_FIELD_NUMBER: _ClassVar[int]
    MINI_OPTION_FIELD_NUMBER: _ClassVar[int]
    LAST_SIZE_FIELD_NUMBER: _ClassVar[int]
    BID_FIELD_NUMBER: _ClassVar[int]
    BID_SIZE_FIELD_NUMBER: _ClassVar[int]
    ASK_FIELD_NUMBER: _ClassVar[int]
    ASK_SIZE_FIELD_NUMBER: _ClassVar[int]
    PRICE_HINT_FIELD_NUMBER: _ClassVar[int]
    VOL_24HR_FIELD_NUMBER: _ClassVar[int]
    VOL_ALL_CURRENCIES_FIELD_NUMBER: _ClassVar[int]
    FROM_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LAST_MARKET_FIELD_NUMBER: _ClassVar[int]
    CIRCULATING_SUPPLY_FIELD_NUMBER: _ClassVar[int]
    MARKET_CAP_FIELD_NUMBER: _ClassVar[int]
    id: str
    price: float
    time: int
    currency: str
    exchange: str
    quote_type: int
    market_hours: int
    change_percent: float
    day_volume: int
    day_high: float
    day_low: float
    change: float
    short_name: str
    expire_date: int
    open_price: float
    previous_close: float
    strike_price: float
    underlying_symbol: str
    open_interest: int
    options_type: int
    mini_option: int
    last_size: int
    bid: float
    bid_size: int
    ask: float
    ask_size: int
    price_hint: int
    vol_24hr: int
    vol_all_currencies: int
    from_currency: str
    last_market: str
    circulating_supply: float
    market_cap: float
    def __init__(
        self,
        id: str | None = ...,
        price: float | None = ...,
        time: int | None = ...,
        currency: str | None = ...,
        exchange: str | None = ...,
        quote_type: int | None = ...,
        market_hours: int | None = ...,
        change_percent: float | None = ...,
        day_volume: int | None = ...,
        day_high: float | None = ...,
        day_low: float | None = ...,
        change: float | None = ...,
        short_name: str | None = ...,
        expire_date: int | None = ...,
        open_price: float | None = ...,
        previous_close: float | None = ...,
        strike_price: float | None = ...,
        underlying_symbol: str | None = ...,
        open_interest: int | None = ...,
        options_type: int | None = ...,
        mini_option: int | None = ...,
        last_size: int | None = ...,
        bid: float | None = ...,
        bid_size: int | None = ...,
        ask: float | None = ...,
        ask_size: int | None = ...,
        price_hint: int | None = ...,
        vol_24hr: int | None = ...,
        vol_all_currencies: int | None = ...,
        from_currency: str | None = ...,
        last_market: str | None = ...,
        circulating_supply: float | None = ...,
        market_cap: float | None = ...,
    ) -> None: ...
